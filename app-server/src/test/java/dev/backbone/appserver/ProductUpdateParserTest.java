package dev.backbone.appserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.backbone.storage.ProductUpdate;
import org.junit.jupiter.api.Test;

class ProductUpdateParserTest {

    @Test
    void everyFieldIsParsed() throws Exception {
        ProductUpdate update = ProductUpdateParser.parse(
                "{\"name\":\"Lamp\",\"description\":\"\",\"priceCents\":1999,\"stock\":0}");

        assertThat(update).isEqualTo(new ProductUpdate("Lamp", "", 1999L, 0));
    }

    @Test
    void absentFieldsStayNull() throws Exception {
        assertThat(ProductUpdateParser.parse("{\"stock\":5}")).isEqualTo(new ProductUpdate(null, null, null, 5));
    }

    @Test
    void invalidJsonNamesBody() {
        InvalidInputException error = invalid("{\"stock\":");

        assertThat(error.field()).isEqualTo("body");
        assertThat(error.getMessage()).startsWith("request body is not valid JSON");
    }

    @Test
    void missingBodyIsInvalid() {
        assertThat(invalid(null).field()).isEqualTo("body");
        assertThat(invalid("  ").field()).isEqualTo("body");
    }

    @Test
    void nonObjectBodyIsInvalid() {
        assertThat(invalid("[1,2]").field()).isEqualTo("body");
    }

    @Test
    void emptyObjectChangesNothing() {
        InvalidInputException error = invalid("{}");

        assertThat(error.field()).isEqualTo("body");
        assertThat(error.getMessage()).isEqualTo("request body changes nothing");
    }

    @Test
    void unknownFieldIsNamed() {
        InvalidInputException error = invalid("{\"version\":7}");

        assertThat(error.field()).isEqualTo("version");
        assertThat(error.value()).isEqualTo("7");
        assertThat(error.accepted()).isEqualTo("one of name, description, priceCents, stock");
    }

    @Test
    void negativePriceIsNamedWithValue() {
        InvalidInputException error = invalid("{\"priceCents\":-1}");

        assertThat(error.field()).isEqualTo("priceCents");
        assertThat(error.value()).isEqualTo("-1");
        assertThat(error.getMessage()).isEqualTo("priceCents=-1 is invalid; accepted: an integer from 0 to 9223372036854775807");
    }

    @Test
    void fractionalOrQuotedPriceIsInvalid() {
        assertThat(invalid("{\"priceCents\":12.5}").field()).isEqualTo("priceCents");
        assertThat(invalid("{\"priceCents\":\"12\"}").field()).isEqualTo("priceCents");
        assertThat(invalid("{\"priceCents\":99999999999999999999}").field()).isEqualTo("priceCents");
    }

    @Test
    void stockAboveIntRangeIsInvalid() {
        assertThat(invalid("{\"stock\":2147483648}").field()).isEqualTo("stock");
    }

    @Test
    void blankOrNullNameIsInvalid() {
        assertThat(invalid("{\"name\":\" \"}").field()).isEqualTo("name");
        assertThat(invalid("{\"name\":null}").field()).isEqualTo("name");
        assertThat(invalid("{\"name\":\"" + "x".repeat(ProductUpdate.MAX_NAME_LENGTH + 1) + "\"}").field()).isEqualTo("name");
    }

    @Test
    void longValueIsShortenedInError() {
        InvalidInputException error = invalid("{\"description\":" + "7".repeat(500) + "}");

        assertThat(error.field()).isEqualTo("description");
        assertThat(error.value()).hasSize(InvalidInputException.MAX_SHOWN_VALUE_LENGTH + 3).endsWith("...");
    }

    private static InvalidInputException invalid(String body) {
        return catchThrowableOfType(InvalidInputException.class, () -> ProductUpdateParser.parse(body));
    }
}
