package dev.backbone.events;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each event record has a JSON Schema file whose properties are exactly the record's fields. */
class SchemaFilesTest {

    @ParameterizedTest
    @ValueSource(classes = {ClientRequest.class, RoutedRequest.class, ClientResponse.class, DnsRecord.class,
            Heartbeat.class, Invalidation.class, PurgeRequest.class, DeadLetter.class})
    void schemaMatchesRecordFields(Class<?> type) throws Exception {
        JsonNode schema;
        try (InputStream in = SchemaFilesTest.class.getResourceAsStream("/schemas/" + type.getSimpleName() + ".schema.json")) {
            assertThat(in).as("schema file for %s", type.getSimpleName()).isNotNull();
            schema = Json.mapper().readTree(in);
        }
        List<String> fields = Arrays.stream(type.getRecordComponents()).map(RecordComponent::getName).toList();
        List<String> properties = new ArrayList<>();
        schema.get("properties").fieldNames().forEachRemaining(properties::add);
        List<String> required = new ArrayList<>();
        schema.get("required").forEach(node -> required.add(node.asText()));

        assertThat(properties).containsExactlyInAnyOrderElementsOf(fields);
        assertThat(fields).containsAll(required);
        assertThat(required).contains("schemaVersion");
        List<String> primitives = Arrays.stream(type.getRecordComponents()).filter(c -> c.getType().isPrimitive())
                .map(RecordComponent::getName).toList();
        assertThat(required).as("primitive fields have no null, so readers require them").containsAll(primitives);
    }
}
