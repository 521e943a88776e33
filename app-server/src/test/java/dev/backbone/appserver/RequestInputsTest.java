package dev.backbone.appserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** {@link IfMatch}, {@link QueryParameters} and {@link StaticEndpoints#assetPath}. */
class RequestInputsTest {

    @Test
    void ifMatchAcceptsQuotedBareAndStar() throws Exception {
        assertThat(IfMatch.parse(null)).isEqualTo(IfMatch.NONE);
        assertThat(IfMatch.parse("\"7\"")).isEqualTo(new IfMatch(true, OptionalLong.of(7)));
        assertThat(IfMatch.parse(" 7 ")).isEqualTo(new IfMatch(true, OptionalLong.of(7)));
        assertThat(IfMatch.parse("*")).isEqualTo(new IfMatch(true, OptionalLong.empty()));
        assertThat(IfMatch.etag(7)).isEqualTo("\"7\"");
    }

    @Test
    void ifMatchRejectsWeakListAndText() {
        for (String header : new String[] {"W/\"7\"", "\"7\", \"8\"", "\"abc\"", "\"7", "", "-1"}) {
            InvalidInputException error = catchThrowableOfType(InvalidInputException.class, () -> IfMatch.parse(header));

            assertThat(error).as(header).isNotNull();
            assertThat(error.field()).as(header).isEqualTo("If-Match");
            assertThat(error.accepted()).as(header).isEqualTo(IfMatch.ACCEPTED);
        }
        assertThat(catchThrowableOfType(InvalidInputException.class, () -> IfMatch.parse("W/\"7\"")).getMessage())
                .contains("a weak entity tag never matches");
    }

    @Test
    void queryParametersReadIntegersInRange() throws Exception {
        QueryParameters parameters = QueryParameters.parse("page=3&size=%32%30&unused");

        assertThat(parameters.integer("page", 1, 1, 10)).isEqualTo(3);
        assertThat(parameters.integer("size", 5, 1, 100)).isEqualTo(20);
        assertThat(parameters.integer("absent", 5, 1, 100)).isEqualTo(5);
    }

    @Test
    void queryParameterOutOfRangeIsNamed() throws Exception {
        for (String value : new String[] {"0", "101", "-1", "abc", "1.5", "", "99999999999"}) {
            QueryParameters parameters = QueryParameters.parse("size=" + value);

            InvalidInputException error = catchThrowableOfType(InvalidInputException.class,
                    () -> parameters.integer("size", 20, 1, 100));
            assertThat(error).as(value).isNotNull();
            assertThat(error.field()).isEqualTo("size");
            assertThat(error.value()).isEqualTo(value);
            assertThat(error.accepted()).isEqualTo("an integer from 1 to 100");
        }
    }

    @Test
    void repeatedOrBadlyEncodedParameterIsRejected() {
        assertThat(catchThrowableOfType(InvalidInputException.class, () -> QueryParameters.parse("page=1&page=2")).field())
                .isEqualTo("page");
        assertThat(catchThrowableOfType(InvalidInputException.class, () -> QueryParameters.parse("page=%zz")).field())
                .isEqualTo("query");
    }

    @Test
    void assetPathRejectsTraversalAndEncodings() {
        for (String path : new String[] {"/static/../etc/passwd", "/static/css/../../x", "/static/./a.css", "/static/a/..",
                "/static/%2e%2e/secret", "/static/a%2Fb", "/static/a\\b", "/static//a.css", "/static/", "/static/a b.css",
                "/static/a.css?x"}) {
            InvalidInputException error = catchThrowableOfType(InvalidInputException.class, () -> StaticEndpoints.assetPath(path));

            assertThat(error).as(path).isNotNull();
            assertThat(error.field()).as(path).isEqualTo("path");
            assertThat(error.value()).as(path).isEqualTo(path.substring("/static".length()));
        }
    }

    @Test
    void assetPathAcceptsPlainSegments() throws Exception {
        assertThat(StaticEndpoints.assetPath("/static/css/site.css")).isEqualTo("/css/site.css");
        assertThat(StaticEndpoints.assetPath("/static/.well-known/a~b_c-d.txt")).isEqualTo("/.well-known/a~b_c-d.txt");
    }
}
