package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The trace query on an instance that stores no traces; the REST API tests cover stored traces on running instances. */
class TraceQueryApiTest {

    @Test
    void tracesOffIs404NamingTheSetting() {
        // A local-only query, as other instances send, returns 404 without touching Kafka Streams when this instance
        // stores no traces.
        var api = new TraceQueryApi(null, new LocalTraces(), new InstancePeers(null, "127.0.0.1:8081"), false);

        assertThatThrownBy(() -> api.trace("req-1", "true")).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.status()).isEqualTo(404);
            assertThat(e.getMessage()).contains("req-1").contains("127.0.0.1:8081").contains("trace.retention.ms=0");
        });
    }
}
