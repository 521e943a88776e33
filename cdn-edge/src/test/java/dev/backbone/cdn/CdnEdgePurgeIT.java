package dev.backbone.cdn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backbone.cdn.TestOrigin.Reply;
import dev.backbone.embedded.EmbeddedKafka;
import dev.backbone.embedded.EmbeddedStackExtension;
import dev.backbone.events.DeadLetter;
import dev.backbone.events.PurgeRequest;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Purges from {@code backbone.cdn-purges} on the real embedded Kafka broker, applied by two edges of two regions. */
@ExtendWith(EmbeddedStackExtension.class)
class CdnEdgePurgeIT {

    private static final Logger log = LoggerFactory.getLogger(CdnEdgePurgeIT.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String HOST = "shop.example";

    private static final HttpClient client = HttpClient.newHttpClient();
    private static TestOrigin origin;
    private static PrometheusMeterRegistry registry;
    private static CdnEdge edge;
    private static CdnEdge otherRegion;
    private static KafkaProducer<byte[], byte[]> producer;
    private static String bootstrapServers;

    @BeforeAll
    static void start(EmbeddedKafka kafka) throws Exception {
        bootstrapServers = kafka.bootstrapServers();
        origin = new TestOrigin();
        origin.route("/products/42", request -> Reply.ok("product 42 v" + request.call(), Map.of(
                "Cache-Control", "max-age=300, stale-while-revalidate=60", "Surrogate-Key", "product:42 category:7")));
        origin.route("/products/43", request -> Reply.ok("product 43 v" + request.call(), Map.of(
                "Cache-Control", "max-age=300", "Surrogate-Key", "product:43 category:7")));
        origin.route("/img/logo.png", request -> Reply.ok("logo v" + request.call(), Map.of(
                "Cache-Control", "max-age=300", "Surrogate-Key", "asset:/img/logo.png")));
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        edge = startEdge("eu-west", registry);
        otherRegion = startEdge("us-east", new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        assertThat(edge.awaitPurgeSubscription(TIMEOUT)).isTrue();
        assertThat(otherRegion.awaitPurgeSubscription(TIMEOUT)).isTrue();
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static CdnEdge startEdge(String region, PrometheusMeterRegistry meters) {
        return CdnEdge.start(EdgeConfig.of(Map.of(
                "region", region,
                "http.port", "0",
                "origin.url", origin.uri().toString(),
                "bootstrap.servers", bootstrapServers)), meters);
    }

    @AfterAll
    static void stop() {
        Timer lag = registry == null ? null : registry.find(EdgeMetrics.PURGE_LAG).timer();
        if (lag != null) {
            log.info("Commit-to-edge-purge lag over {} purges: mean {} ms, max {} ms", lag.count(),
                    Math.round(lag.mean(TimeUnit.MILLISECONDS)), Math.round(lag.max(TimeUnit.MILLISECONDS)));
        }
        for (AutoCloseable closeable : new AutoCloseable[] {producer, edge, otherRegion, origin}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                log.warn("Cannot close {}: {}", closeable, e.toString());
            }
        }
    }

    @Test
    void kafkaClientMetersAreBoundPerClient() {
        await().atMost(TIMEOUT).untilAsserted(() -> assertThat(registry.getMeters().stream()
                .filter(meter -> meter.getId().getName().startsWith("kafka."))
                .map(meter -> meter.getId().getTag("client.id")))
                .contains("backbone-cdn-edge-eu-west-dead-letters", "backbone-cdn-edge-eu-west-purges")
                .doesNotContain("backbone-cdn-edge-us-east-purges"));
    }

    @Test
    void metricsPageShowsKafkaClientMeters() throws Exception {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(edge.uri().resolve("/metrics"))
                .timeout(TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("backbone_edge_");
        assertThat(response.body()).contains("kafka_producer_");
        assertThat(response.body()).contains("kafka_consumer_");
    }

    @Test
    void hardPurgeReachesEveryRegion() throws Exception {
        get(edge, "/products/43");
        get(otherRegion, "/products/43");
        assertThat(header(get(edge, "/products/43"), "X-Cache")).isEqualTo("HIT");

        publish("product:43", false, System.currentTimeMillis());

        await().atMost(TIMEOUT).until(() -> header(get(edge, "/products/43"), "X-Cache").equals("MISS"));
        await().atMost(TIMEOUT).until(() -> header(get(otherRegion, "/products/43"), "X-Cache").equals("MISS"));
        assertThat(registry.get(EdgeMetrics.PURGES).tags("kind", "hard", "source", "kafka").counter().count()).isPositive();
        assertThat(registry.get(EdgeMetrics.PURGE_LAG).timer().count()).isPositive();
        assertThat(edge.purgeLagHistogram().getTotalCount()).as("the histogram holds the timer's lags")
                .isEqualTo(registry.get(EdgeMetrics.PURGE_LAG).timer().count());
    }

    @Test
    void softPurgeServesStaleThenRefreshes() throws Exception {
        get(edge, "/products/42");

        publish("product:42", true, System.currentTimeMillis());

        HttpResponse<String> stale = await().atMost(TIMEOUT).until(() -> get(edge, "/products/42"),
                response -> header(response, "X-Cache").equals("STALE"));
        await().atMost(TIMEOUT).until(() -> header(get(edge, "/products/42"), "X-Cache").equals("HIT")
                && origin.fetches("/products/42") >= 2);
        assertThat(stale.body()).startsWith("product 42 v");
    }

    @Test
    void purgeAllFromKafka() throws Exception {
        get(edge, "/img/logo.png");
        assertThat(header(get(edge, "/img/logo.png"), "X-Cache")).isEqualTo("HIT");

        publish(Purger.ALL, false, System.currentTimeMillis());

        await().atMost(TIMEOUT).until(() -> header(get(edge, "/img/logo.png"), "X-Cache").equals("MISS"));
    }

    @Test
    void malformedPurgeDeadLettered() throws Exception {
        get(edge, "/img/logo.png");
        byte[] badKey = ("bad-" + System.nanoTime()).getBytes(StandardCharsets.UTF_8);
        producer.send(new ProducerRecord<>(Topics.CDN_PURGES.name(), badKey, "{\"surrogateKey\": ".getBytes(StandardCharsets.UTF_8))).get();

        publish("asset:/img/logo.png", false, System.currentTimeMillis());

        await().atMost(TIMEOUT).until(() -> header(get(edge, "/img/logo.png"), "X-Cache").equals("MISS"));
        DeadLetter letter = await().atMost(TIMEOUT).until(() -> deadLetters().stream()
                .filter(d -> d.consumer().equals("backbone-cdn-edge-eu-west") && d.error().contains("PurgeRequest"))
                .findFirst().orElse(null), found -> found != null);
        assertThat(letter.topic()).isEqualTo(Topics.CDN_PURGES.name());
    }

    private static void publish(String surrogateKey, boolean soft, long commitAtMs) throws Exception {
        var purge = new PurgeRequest(PurgeRequest.SCHEMA_VERSION, surrogateKey, soft, commitAtMs, System.currentTimeMillis());
        producer.send(new ProducerRecord<>(Topics.CDN_PURGES.name(), surrogateKey.getBytes(StandardCharsets.UTF_8),
                Topics.CDN_PURGES.valueSerde().serializer().serialize(Topics.CDN_PURGES.name(), purge))).get();
    }

    private static List<DeadLetter> deadLetters() {
        List<DeadLetter> letters = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            var partition = new TopicPartition(Topics.DEAD_LETTERS.name(), 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            while (consumer.position(partition) < end) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    letters.add(Topics.DEAD_LETTERS.valueSerde().deserializer().deserialize(record.topic(), record.value()));
                }
            }
        }
        return letters;
    }

    private static HttpResponse<String> get(CdnEdge target, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(target.uri().resolve(path)).header("Host", HOST).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String header(HttpResponse<String> response, String name) {
        return response.headers().firstValue(name).orElse("");
    }
}
