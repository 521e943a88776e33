package dev.backbone.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class JsonSerdeTest {

    private final JsonSerde<ClientRequest> serde = new JsonSerde<>(ClientRequest.class);

    private static ClientRequest request() {
        return new ClientRequest(ClientRequest.SCHEMA_VERSION, "r-1", "alice", "eu-west", "DE", "shop.example.com", "GET",
                "/products/42", "", Map.of("accept", "application/json"), null, "ingest-1", 0, 1000, 11_000);
    }

    @Test
    void roundTripKeepsEveryField() {
        byte[] bytes = serde.serialize("t", request());

        assertThat(serde.deserialize("t", bytes)).isEqualTo(request());
    }

    @Test
    void nullIsTombstoneBothWays() {
        assertThat(serde.serialize("t", null)).isNull();
        assertThat(serde.deserialize("t", null)).isNull();
    }

    @Test
    void truncatedJsonThrowsSerializationException() {
        byte[] bytes = "{\"schemaVersion\":1,".getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> serde.deserialize("backbone.client-requests", bytes))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("ClientRequest")
                .hasMessageContaining("backbone.client-requests");
    }

    @Test
    void unknownSchemaVersionIsRejectedNamingVersion() {
        String json = new String(serde.serialize("t", request()), StandardCharsets.UTF_8).replace("\"schemaVersion\":1", "\"schemaVersion\":99");

        assertThatThrownBy(() -> serde.deserialize("t", json.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("unsupported schemaVersion 99");
    }

    @Test
    void missingRequiredFieldIsRejectedNamingField() {
        byte[] bytes = ("{\"schemaVersion\":1,\"requestId\":\"r\",\"host\":\"h\",\"method\":\"GET\",\"path\":\"/\","
                + "\"replyPartition\":0,\"receivedAtMs\":1,\"deadlineAtMs\":2}").getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> serde.deserialize("t", bytes))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("clientId");
    }

    @Test
    void missingPrimitiveFieldIsRejectedNamingField() {
        byte[] bytes = "{\"schemaVersion\":1,\"requestId\":\"r\",\"clientId\":\"c\",\"host\":\"h\",\"method\":\"GET\",\"path\":\"/\"}"
                .getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> serde.deserialize("t", bytes))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("replyPartition");
    }

    @Test
    void wrongTypeIsRejected() {
        String json = new String(serde.serialize("t", request()), StandardCharsets.UTF_8).replace("\"replyPartition\":0", "\"replyPartition\":\"zero\"");

        assertThatThrownBy(() -> serde.deserialize("t", json.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(SerializationException.class);
    }

    @Test
    void dnsRecordWithoutAddressesIsRejected() {
        var dns = new JsonSerde<>(DnsRecord.class);
        byte[] bytes = "{\"schemaVersion\":1,\"name\":\"a.example\",\"scope\":\"global\",\"type\":\"A\",\"addresses\":[],\"ttlSeconds\":5,\"version\":1}"
                .getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> dns.deserialize("t", bytes)).isInstanceOf(SerializationException.class).hasMessageContaining("addresses");
    }

    @Test
    void dnsRecordKeyIsScopeSlashName() {
        var record = new DnsRecord(1, "shop.example.com", "region:eu-west", DnsRecord.Type.A, List.of("lb-1"), null, 30, 1);

        assertThat(record.key()).isEqualTo("region:eu-west/shop.example.com");
    }
}
