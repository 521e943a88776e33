package dev.backbone.cdn;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class QueryNormalizerTest {

    @Test
    void sortsByNameThenValue() {
        assertThat(QueryNormalizer.normalize("b=2&a=1&a=0")).isEqualTo("a=0&a=1&b=2");
    }

    @Test
    void dropsEmptySegments() {
        assertThat(QueryNormalizer.normalize("&a=1&&b=2&")).isEqualTo("a=1&b=2");
        assertThat(QueryNormalizer.normalize("")).isEmpty();
        assertThat(QueryNormalizer.normalize(null)).isEmpty();
        assertThat(QueryNormalizer.normalize("&")).isEmpty();
    }

    @Test
    void bareNameEqualsEmptyValue() {
        assertThat(QueryNormalizer.normalize("debug")).isEqualTo(QueryNormalizer.normalize("debug="));
        assertThat(QueryNormalizer.normalize("debug=")).isEqualTo("debug=");
    }

    @Test
    void encodingIsCanonical() {
        assertThat(QueryNormalizer.normalize("q=a+b")).isEqualTo("q=a%20b");
        assertThat(QueryNormalizer.normalize("q=a%20b")).isEqualTo("q=a%20b");
        assertThat(QueryNormalizer.normalize("q=%2b")).isEqualTo("q=%2B");
        assertThat(QueryNormalizer.normalize("q=%7e")).isEqualTo("q=~");
        assertThat(QueryNormalizer.normalize("q=caf%C3%A9")).isEqualTo(QueryNormalizer.normalize("q=café"));
        assertThat(QueryNormalizer.normalize("q=🦊")).isEqualTo("q=%F0%9F%A6%8A");
    }

    @Test
    void invalidEscapeKeptLiterally() {
        assertThat(QueryNormalizer.normalize("q=100%")).isEqualTo("q=100%25");
        assertThat(QueryNormalizer.normalize("q=%zz")).isEqualTo("q=%25zz");
    }
}
