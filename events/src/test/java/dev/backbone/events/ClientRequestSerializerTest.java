package dev.backbone.events;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClientRequestSerializerTest {

    /** Jackson's own record serialization: the same mapper settings, with annotations, and so this serializer, off. */
    private static final ObjectMapper RECORD_MAPPER = JsonMapper.builder().disable(MapperFeature.USE_ANNOTATIONS).build();

    @Test
    void writesTheSameJsonAsJacksonsRecordSerializer() throws Exception {
        var headers = new LinkedHashMap<String, String>();
        headers.put("content-type", "application/json");
        headers.put("x-quote", "a \"b\" \\ c\n\u0001 é 😀");
        List<ClientRequest> samples = List.of(
                new ClientRequest(1, "r-1", "alice", "eu-west", "DE", "shop.example.com", "GET", "/products/42", "x=1",
                        Map.of(), null, "ingest-1", 0, 1_764_878_400_000L, 1_764_878_410_000L),
                new ClientRequest(1, "a-b-7", "ip-127.0.0.1", null, null, "shop.example.com", "PUT", "/caf\u00e9/%", null,
                        headers, "{\"priceCents\":5}", "ingest-2", 11, Long.MAX_VALUE, 0));
        var serde = Topics.CLIENT_REQUESTS.valueSerde();
        for (ClientRequest request : samples) {
            byte[] written = serde.serializer().serialize("t", request);

            // Bytes against bytes: Jackson's byte and String generators escape characters outside the BMP differently.
            assertThat(new String(written, StandardCharsets.UTF_8))
                    .isEqualTo(new String(RECORD_MAPPER.writeValueAsBytes(request), StandardCharsets.UTF_8));
            assertThat(serde.deserializer().deserialize("t", written)).isEqualTo(request);
        }
    }
}
