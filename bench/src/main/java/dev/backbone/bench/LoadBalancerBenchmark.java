package dev.backbone.bench;

import dev.backbone.routing.BoundedLoads;
import dev.backbone.routing.Maglev;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Measures the load balancer's consistent hashing against two baselines in one run on one key set: the routing
 * module's {@link Maglev} table, a {@link HashRing} with 160 virtual nodes per server, and {@link RendezvousHashing}.
 *
 * <ol>
 *   <li>Balance: max/mean and min/mean keys per server for 10 and 100 servers.</li>
 *   <li>Disruption: the fraction of keys that change server when one of 10 servers leaves, against the ideal 1/10.</li>
 *   <li>Build time of a 65,537-entry Maglev table for 10 and 100 servers: median of repeated builds after warm-up.</li>
 *   <li>Request load under a Zipf(1.1) key stream: max/mean requests per server with plain Maglev and with
 *       {@link BoundedLoads} at factor 1.25, counted over the whole stream.</li>
 * </ol>
 *
 * Run with {@code bench/run LoadBalancerBenchmark [--keys N] [--requests N] [--zipf-keys N] [--builds N]}; it prints
 * Markdown tables. Single-threaded and bounded by its arguments.
 */
public final class LoadBalancerBenchmark {

    static final int VIRTUAL_NODES = 160;
    static final double ZIPF_EXPONENT = 1.1;
    static final double BOUNDED_FACTOR = 1.25;
    static final int TABLE_SIZE = Maglev.DEFAULT_TABLE_SIZE;

    private LoadBalancerBenchmark() {
    }

    /** Options, each from {@code --name value}. */
    record Options(int keys, int requests, int zipfKeys, int builds) {

        static Options parse(String[] args) {
            var values = new HashMap<String, Integer>(Map.of("--keys", 10_000_000, "--requests", 2_000_000,
                    "--zipf-keys", 1_000_000, "--builds", 200));
            for (int i = 0; i < args.length; i += 2) {
                if (!values.containsKey(args[i]) || i + 1 >= args.length) {
                    throw new IllegalArgumentException("unknown option or missing value: " + args[i]
                            + "; accepted: --keys N, --requests N, --zipf-keys N, --builds N");
                }
                int value = Integer.parseInt(args[i + 1].replace("_", ""));
                if (value < 1) {
                    throw new IllegalArgumentException(args[i] + " must be at least 1, got " + value);
                }
                values.put(args[i], value);
            }
            if (values.get("--zipf-keys") > values.get("--keys")) {
                throw new IllegalArgumentException("--zipf-keys must not exceed --keys, so that the stream uses the key set");
            }
            return new Options(values.get("--keys"), values.get("--requests"), values.get("--zipf-keys"),
                    values.get("--builds"));
        }
    }

    public static void main(String[] args) {
        Options options = Options.parse(args);
        System.out.printf("# Load balancer benchmark%n%nkeys %,d (key-0 ... key-%d), Zipf(%.1f) stream of %,d requests over "
                        + "the first %,d keys, Maglev table %,d entries, ring %d virtual nodes per server, %d builds%n%n",
                options.keys(), options.keys() - 1, ZIPF_EXPONENT, options.requests(), options.zipfKeys(), TABLE_SIZE,
                VIRTUAL_NODES, options.builds());
        balance(options);
        disruption(options);
        buildTime(options);
        zipfLoad(options);
    }

    static List<String> servers(int count) {
        var servers = new ArrayList<String>(count);
        for (int i = 1; i <= count; i++) {
            servers.add("app-" + i);
        }
        return servers;
    }

    static String key(int index) {
        return "key-" + index;
    }

    /** Builds the three algorithms over one server list and returns their lookup functions by name. */
    static Map<String, Function<String, String>> algorithms(List<String> servers) {
        var algorithms = new java.util.LinkedHashMap<String, Function<String, String>>();
        Maglev maglev = Maglev.build(servers, TABLE_SIZE);
        HashRing ring = HashRing.build(servers, VIRTUAL_NODES);
        RendezvousHashing rendezvous = new RendezvousHashing(servers);
        algorithms.put("Maglev " + TABLE_SIZE, maglev::lookup);
        algorithms.put("ring " + VIRTUAL_NODES + " vnodes", ring::lookup);
        algorithms.put("rendezvous", rendezvous::lookup);
        return algorithms;
    }

    private static void balance(Options options) {
        System.out.printf("## Balance (keys per server)%n%n| servers | algorithm | max/mean | min/mean | target |%n"
                + "|---|---|---|---|---|%n");
        for (int count : new int[] {10, 100}) {
            List<String> servers = servers(count);
            Map<String, Integer> index = indexOf(servers);
            for (var algorithm : algorithms(servers).entrySet()) {
                long[] perServer = new long[count];
                for (int i = 0; i < options.keys(); i++) {
                    perServer[index.get(algorithm.getValue().apply(key(i)))]++;
                }
                double mean = (double) options.keys() / count;
                String target = "";
                if (algorithm.getKey().startsWith("Maglev")) {
                    target = count == 10 ? "<= 1.01" : "<= 1.02";
                }
                System.out.printf("| %d | %s | %.4f | %.4f | %s |%n", count, algorithm.getKey(), max(perServer) / mean,
                        min(perServer) / mean, target);
            }
            long[] slots = new long[count];
            Maglev table = Maglev.build(servers, TABLE_SIZE);
            for (int slot = 0; slot < table.tableSize(); slot++) {
                slots[index.get(table.serverAt(slot))]++;
            }
            double meanSlots = (double) TABLE_SIZE / count;
            System.out.printf("| %d | Maglev %d, table slots (no key sampling) | %.4f | %.4f | |%n", count, TABLE_SIZE,
                    max(slots) / meanSlots, min(slots) / meanSlots);
        }
        System.out.println();
    }

    private static void disruption(Options options) {
        List<String> before = servers(10);
        String leaving = "app-5";
        List<String> after = new ArrayList<>(before);
        after.remove(leaving);
        var oldAlgorithms = algorithms(before);
        var newAlgorithms = algorithms(after);
        System.out.printf("## Disruption: %s of 10 servers leaves%n%n| algorithm | keys moved | of which from survivors "
                + "| moved / ideal 10%% | target |%n|---|---|---|---|---|%n", leaving);
        for (String name : oldAlgorithms.keySet()) {
            var old = oldAlgorithms.get(name);
            var now = newAlgorithms.get(name);
            long moved = 0;
            long movedFromSurvivors = 0;
            for (int i = 0; i < options.keys(); i++) {
                String key = key(i);
                String was = old.apply(key);
                if (!was.equals(now.apply(key))) {
                    moved++;
                    if (!was.equals(leaving)) {
                        movedFromSurvivors++;
                    }
                }
            }
            double fraction = (double) moved / options.keys();
            System.out.printf("| %s | %.4f | %.4f | %.3f | %s |%n", name, fraction,
                    (double) movedFromSurvivors / options.keys(), fraction / 0.1,
                    name.startsWith("Maglev") ? "<= 1.1" : "");
        }
        System.out.println();
    }

    private static void buildTime(Options options) {
        System.out.printf("## Maglev table build, %,d entries (%d builds after %d warm-up builds)%n%n"
                + "| servers | median ms | p90 ms | min ms | target |%n|---|---|---|---|---|%n",
                TABLE_SIZE, options.builds(), options.builds() / 2);
        for (int count : new int[] {10, 100}) {
            List<String> servers = servers(count);
            long sink = 0;
            for (int i = 0; i < options.builds() / 2; i++) {
                sink += Maglev.build(servers, TABLE_SIZE).slotOf("warm-up");
            }
            long[] nanos = new long[options.builds()];
            for (int i = 0; i < options.builds(); i++) {
                long start = System.nanoTime();
                Maglev table = Maglev.build(servers, TABLE_SIZE);
                nanos[i] = System.nanoTime() - start;
                sink += table.slotOf("key-" + i);
            }
            Arrays.sort(nanos);
            System.out.printf("| %d | %.3f | %.3f | %.3f | %s |%n", count, nanos[nanos.length / 2] / 1e6,
                    nanos[(int) (nanos.length * 0.9)] / 1e6, nanos[0] / 1e6, count == 100 ? "<= 5" : "");
            if (sink == 42) {
                // Keeps the JIT from dropping the builds as dead code; practically never true.
                System.out.println();
            }
        }
        System.out.println();
    }

    private static void zipfLoad(Options options) {
        double[] cumulative = zipfCumulative(options.zipfKeys());
        System.out.printf("## Request load, Zipf(%.1f) stream of %,d requests (top key %.1f%% of requests)%n%n"
                        + "| servers | mode | max/mean | spilled | target |%n|---|---|---|---|---|%n",
                ZIPF_EXPONENT, options.requests(), 100 * cumulative[0]);
        for (int count : new int[] {10, 100}) {
            List<String> servers = servers(count);
            Map<String, Integer> index = indexOf(servers);
            Maglev table = Maglev.build(servers, TABLE_SIZE);
            for (boolean bounded : new boolean[] {false, true}) {
                var random = new SplittableRandom(20_300_101L);
                long[] loads = new long[count];
                long spilled = 0;
                for (long total = 0; total < options.requests(); total++) {
                    String key = key(sampleRank(cumulative, random.nextDouble()));
                    String server;
                    if (bounded) {
                        var choice = BoundedLoads.choose(table, key, id -> loads[index.get(id)], total, BOUNDED_FACTOR);
                        server = choice.serverId();
                        spilled += choice.spilled() ? 1 : 0;
                    } else {
                        server = table.lookup(key);
                    }
                    loads[index.get(server)]++;
                }
                double mean = (double) options.requests() / count;
                System.out.printf("| %d | %s | %.4f | %.2f%% | %s |%n", count,
                        bounded ? "Maglev, bounded loads " + BOUNDED_FACTOR : "Maglev", max(loads) / mean,
                        100.0 * spilled / options.requests(), bounded ? "<= " + BOUNDED_FACTOR : "");
            }
        }
        System.out.println();
    }

    /** Returns the cumulative probabilities of ranks 0 to n - 1 under Zipf(ZIPF_EXPONENT). */
    static double[] zipfCumulative(int n) {
        double[] cumulative = new double[n];
        double sum = 0;
        for (int rank = 0; rank < n; rank++) {
            sum += Math.pow(rank + 1, -ZIPF_EXPONENT);
            cumulative[rank] = sum;
        }
        for (int rank = 0; rank < n; rank++) {
            cumulative[rank] /= sum;
        }
        return cumulative;
    }

    /** Returns the first rank whose cumulative probability reaches {@code uniform}. */
    static int sampleRank(double[] cumulative, double uniform) {
        int rank = Arrays.binarySearch(cumulative, uniform);
        return Math.min(rank >= 0 ? rank : -rank - 1, cumulative.length - 1);
    }

    private static Map<String, Integer> indexOf(List<String> servers) {
        var index = new HashMap<String, Integer>();
        for (int i = 0; i < servers.size(); i++) {
            index.put(servers.get(i), i);
        }
        return index;
    }

    private static double max(long[] values) {
        return Arrays.stream(values).max().orElseThrow();
    }

    private static double min(long[] values) {
        return Arrays.stream(values).min().orElseThrow();
    }
}
