package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The trace query when traces are off; the REST API tests cover the stored traces on running instances. */
class TraceQueryApiTest {

    @Test
    void tracesOffIs404NamingTheSetting() {
        // With traces off the query returns 404 before it touches Kafka Streams or the other instances.
        var api = new TraceQueryApi(null, null, false);

        assertThatThrownBy(() -> api.trace("req-1", null)).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.status()).isEqualTo(404);
            assertThat(e.getMessage()).contains("req-1").contains("trace.retention.ms=0");
        });
    }
}
