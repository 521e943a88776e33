package dev.backbone.appserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.backbone.storage.NewProduct;
import dev.backbone.storage.ProductUpdate;
import org.junit.jupiter.api.Test;

class ProductBodyParserTest {

    @Test
    void everyFieldIsParsed() throws Exception {
        ProductUpdate update = ProductBodyParser.parseUpdate(
                "{\"name\":\"Lamp\",\"description\":\"\",\"priceCents\":1999,\"stock\":0}");

        assertThat(update).isEqualTo(new ProductUpdate("Lamp", "", 1999L, 0));
    }

    @Test
    void absentFieldsStayNull() throws Exception {
        assertThat(ProductBodyParser.parseUpdate("{\"stock\":5}")).isEqualTo(new ProductUpdate(null, null, null, 5));
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
    void nulInNameOrDescriptionIsInvalid() {
        // PostgreSQL text cannot hold NUL; without this check the write failed in the database with 500.
        assertThat(invalid("{\"name\":\"a\\u0000b\"}").field()).isEqualTo("name");
        assertThat(invalid("{\"description\":\"\\u0000\"}").field()).isEqualTo("description");
        assertThat(invalid("{\"name\":\"a\\u0000b\"}").accepted()).contains("without NUL");
    }

    @Test
    void unpairedSurrogateIsInvalid() throws Exception {
        assertThat(invalid("{\"name\":\"a\\ud800\"}").field()).isEqualTo("name");
        assertThat(invalid("{\"name\":\"\\udc00b\"}").field()).isEqualTo("name");
        assertThat(ProductBodyParser.parseUpdate("{\"name\":\"\\ud83d\\ude00\"}").name()).isEqualTo("\uD83D\uDE00");
    }

    @Test
    void longValueIsShortenedInError() {
        InvalidInputException error = invalid("{\"description\":" + "7".repeat(500) + "}");

        assertThat(error.field()).isEqualTo("description");
        assertThat(error.value()).hasSize(InvalidInputException.MAX_SHOWN_VALUE_LENGTH + 3).endsWith("...");
    }

    @Test
    void newProductIsParsed() throws Exception {
        NewProduct product = ProductBodyParser.parseNew(
                "{\"categoryId\":3,\"name\":\"Kettle\",\"priceCents\":2500,\"stock\":4}");

        assertThat(product).isEqualTo(new NewProduct(3, "Kettle", "", 2500, 4));
    }

    @Test
    void newProductNamesMissingField() {
        InvalidInputException error = catchThrowableOfType(InvalidInputException.class,
                () -> ProductBodyParser.parseNew("{\"categoryId\":3,\"name\":\"Kettle\",\"stock\":4}"));

        assertThat(error.field()).isEqualTo("priceCents");
        assertThat(error.getMessage()).isEqualTo("field priceCents is missing");
    }

    @Test
    void newProductRejectsIdAndVersion() {
        InvalidInputException error = catchThrowableOfType(InvalidInputException.class,
                () -> ProductBodyParser.parseNew("{\"id\":3,\"categoryId\":1,\"name\":\"x\",\"priceCents\":1,\"stock\":1}"));

        assertThat(error.field()).isEqualTo("id");
        assertThat(error.accepted()).isEqualTo("one of categoryId, name, description, priceCents, stock");
    }

    @Test
    void newProductRejectsNegativeCategory() {
        InvalidInputException error = catchThrowableOfType(InvalidInputException.class,
                () -> ProductBodyParser.parseNew("{\"categoryId\":-1,\"name\":\"x\",\"priceCents\":1,\"stock\":1}"));

        assertThat(error.field()).isEqualTo("categoryId");
        assertThat(error.value()).isEqualTo("-1");
    }

    private static InvalidInputException invalid(String body) {
        return catchThrowableOfType(InvalidInputException.class, () -> ProductBodyParser.parseUpdate(body));
    }
}
