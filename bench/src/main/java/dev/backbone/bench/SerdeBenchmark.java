package dev.backbone.bench;

import dev.backbone.events.ClientRequest;
import dev.backbone.events.JsonSerde;
import dev.backbone.events.Topics;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** JSON serialization and deserialization of the request event, the serde on every hop of the request path. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SerdeBenchmark {

    private final JsonSerde<ClientRequest> serde = Topics.jsonSerde(Topics.CLIENT_REQUESTS);
    private ClientRequest request;
    private byte[] bytes;

    @Setup
    public void setUp() {
        request = new ClientRequest(ClientRequest.SCHEMA_VERSION, "5f0c9a52-1d1e-4a43-9d8e-3f1b2b8f6a10", "client-17",
                "eu-west", "DE", "shop.example.com", "GET", "/products/42", "", Map.of("accept", "application/json",
                "user-agent", "backbone-bench"), null, "ingest-1", 0, 1_764_878_400_000L, 1_764_878_410_000L);
        bytes = serde.serialize(Topics.CLIENT_REQUESTS.name(), request);
    }

    @Benchmark
    public byte[] serializeClientRequest() {
        return serde.serialize(Topics.CLIENT_REQUESTS.name(), request);
    }

    @Benchmark
    public ClientRequest deserializeClientRequest() {
        return serde.deserialize(Topics.CLIENT_REQUESTS.name(), bytes);
    }
}
