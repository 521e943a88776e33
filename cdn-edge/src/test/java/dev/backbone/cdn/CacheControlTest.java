package dev.backbone.cdn;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CacheControlTest {

    @Test
    void parsesDirectives() {
        CacheControl cacheControl = CacheControl.parse("public, Max-Age=60, s-maxage=\"300\", stale-while-revalidate=30, stale-if-error=600");

        assertThat(cacheControl.maxAge()).isEqualTo(60);
        assertThat(cacheControl.sharedMaxAge()).isEqualTo(300);
        assertThat(cacheControl.sharedFreshnessLifetime()).isEqualTo(300);
        assertThat(cacheControl.staleWhileRevalidate()).isEqualTo(30);
        assertThat(cacheControl.staleIfError()).isEqualTo(600);
        assertThat(cacheControl.noStore()).isFalse();
    }

    @Test
    void flags() {
        CacheControl cacheControl = CacheControl.parse("no-store, no-cache, private=\"Set-Cookie, X-Id\", proxy-revalidate");

        assertThat(cacheControl.noStore()).isTrue();
        assertThat(cacheControl.noCache()).isTrue();
        assertThat(cacheControl.isPrivate()).isTrue();
        assertThat(cacheControl.mustRevalidate()).isTrue();
        assertThat(cacheControl.sharedFreshnessLifetime()).isEqualTo(-1);
    }

    @Test
    void invalidLifetimeIsStale() {
        CacheControl cacheControl = CacheControl.parse("max-age=-5, s-maxage=abc, stale-if-error=, stale-while-revalidate=x");

        assertThat(cacheControl.maxAge()).isZero();
        assertThat(cacheControl.sharedMaxAge()).isZero();
        assertThat(cacheControl.staleIfError()).isEqualTo(-1);
        assertThat(cacheControl.staleWhileRevalidate()).isEqualTo(-1);
    }

    @Test
    void hugeValueCapped() {
        assertThat(CacheControl.parse("max-age=99999999999999999999").maxAge()).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void absentHeader() {
        assertThat(CacheControl.parse(null)).isEqualTo(CacheControl.NONE);
        assertThat(CacheControl.parse("  ")).isEqualTo(CacheControl.NONE);
    }
}
