package dev.backbone.routing;

import dev.backbone.events.HostNames;
import dev.backbone.events.DnsRecord;
import java.util.HashMap;
import java.util.List;
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

/**
 * The DNS stage's per-request work without Kafka: host canonicalization, the region → country → global lookup, a CNAME
 * chain, and the per-client address shuffle. It lives in the routing package because those classes are package-private.
 * Records sit in a HashMap here; the topology reads them from an in-memory global store.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DnsResolutionBenchmark {

    private DnsResolver resolver;
    private List<String> addresses;
    private int client;

    @Setup
    public void setUp() {
        Map<String, DnsRecord> records = new HashMap<>();
        put(records, new DnsRecord(1, "shop.example.com", "global", DnsRecord.Type.A, List.of("lb-1", "lb-2", "lb-3", "lb-4"), null, 60, 7));
        put(records, new DnsRecord(1, "shop.example.com", "region:eu-west", DnsRecord.Type.A, List.of("lb-eu-1", "lb-eu-2"), null, 60, 3));
        put(records, new DnsRecord(1, "www.example.com", "global", DnsRecord.Type.CNAME, List.of(), "edge.example.com", 300, 1));
        put(records, new DnsRecord(1, "edge.example.com", "global", DnsRecord.Type.CNAME, List.of(), "shop.example.com", 300, 1));
        resolver = new DnsResolver(records::get);
        addresses = List.of("lb-1", "lb-2", "lb-3", "lb-4");
    }

    private static void put(Map<String, DnsRecord> records, DnsRecord record) {
        records.put(record.key(), record);
    }

    @Benchmark
    public String canonicalizeHost() {
        return HostNames.canonical("Shop.Example.COM.:8080");
    }

    @Benchmark
    public Object resolveAtGlobalLevel() {
        return resolver.resolve("shop.example.com", "us-east", "US");
    }

    @Benchmark
    public Object resolveAtRegionLevel() {
        return resolver.resolve("shop.example.com", "eu-west", "DE");
    }

    @Benchmark
    public Object resolveTwoLinkAliasChain() {
        return resolver.resolve("www.example.com", "us-east", "US");
    }

    @Benchmark
    public List<String> shuffleAddressesForClient() {
        return AddressOrder.forClient(addresses, "client-" + (client++ & 1023), "shop.example.com", 7);
    }
}
