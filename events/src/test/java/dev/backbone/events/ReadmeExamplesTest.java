package dev.backbone.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's event examples parse as the event records they name, so users can copy them into any Kafka client. */
class ReadmeExamplesTest {

    private static final Pattern EXAMPLE = Pattern.compile("<!-- example: (\\w+) -->\\s*```json\\n(.*?)```", Pattern.DOTALL);

    @Test
    void everyEventTypeHasValidReadmeExample() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        Map<String, String> examples = new LinkedHashMap<>();
        Matcher matcher = EXAMPLE.matcher(readme);
        while (matcher.find()) {
            examples.put(matcher.group(1), matcher.group(2));
        }

        assertThat(examples.keySet()).containsExactlyInAnyOrder("ClientRequest", "RoutedRequest", "ClientResponse",
                "DnsRecord", "Heartbeat", "Invalidation", "PurgeRequest", "DeadLetter");
        for (var entry : examples.entrySet()) {
            Class<?> type = Class.forName("dev.backbone.events." + entry.getKey());
            Object parsed = new JsonSerde<>(type).deserialize("readme", entry.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            assertThat(parsed).as("example of %s", entry.getKey()).isInstanceOf(type);
        }
    }
}
