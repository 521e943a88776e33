package dev.backbone.routing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * A Maglev consistent-hashing lookup table (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
 * Balancer", NSDI 2016). Each server walks its own permutation of the table's slots, given by an offset and a skip
 * derived from two independent hashes of its id. Servers take turns claiming their next free slot until the table is
 * full. A lookup hashes the key to a slot. When a server leaves, mostly the slots it owned change owner.
 *
 * <p>Weights: in each turn a server claims as many slots as its weight, so its share of the table is its weight over
 * the sum of weights. Servers are sorted by id before the table is built, so the table depends only on the members and
 * their weights, never on the order in which they joined.
 *
 * <p>Instances are immutable and thread-safe. Building costs about {@code tableSize * ln(tableSize)} slot probes;
 * a lookup is one hash and one array read. {@code LoadBalancerBenchmark} in the bench module measures build time,
 * balance and the keys moved when a server leaves.
 */
public final class Maglev {

    /** The default table size, a prime well above 100 times a pool of a few hundred servers. */
    public static final int DEFAULT_TABLE_SIZE = 65_537;
    /** The largest accepted table size. */
    public static final int MAX_TABLE_SIZE = 16_777_259;

    private static final long OFFSET_SEED = 0x6d61676c65763031L;
    private static final long SKIP_SEED = 0x6d61676c65763032L;
    private static final long KEY_SEED = 0x6d61676c65763033L;

    private final String[] servers;
    private final Map<String, Integer> weights;
    private final int[] table;

    private Maglev(String[] servers, Map<String, Integer> weights, int[] table) {
        this.servers = servers;
        this.weights = weights;
        this.table = table;
    }

    /**
     * Builds a table over servers with equal weights.
     *
     * @throws IllegalArgumentException when {@code servers} is empty or {@code tableSize} is not a prime above the
     *                                  number of servers
     */
    public static Maglev build(List<String> servers, int tableSize) {
        var weights = new TreeMap<String, Integer>();
        servers.forEach(server -> weights.put(server, 1));
        return build(weights, tableSize);
    }

    /**
     * Builds a table over servers with weights.
     *
     * @param weightsByServer each server id with its weight, at least 1
     * @param tableSize       a prime, larger than the sum of weights; 100 times the number of servers or more keeps
     *                        each server's share within about 1% of its weight
     * @throws IllegalArgumentException when there are no servers, a weight is below 1, or the table size is not a
     *                                  prime larger than the sum of weights
     */
    public static Maglev build(Map<String, Integer> weightsByServer, int tableSize) {
        if (weightsByServer.isEmpty()) {
            throw new IllegalArgumentException("a Maglev table needs at least one server");
        }
        var sorted = new TreeMap<>(weightsByServer);
        long weightSum = 0;
        for (var entry : sorted.entrySet()) {
            Objects.requireNonNull(entry.getKey(), "server id");
            if (entry.getValue() == null || entry.getValue() < 1) {
                throw new IllegalArgumentException("weight of server " + entry.getKey() + " must be >= 1, got " + entry.getValue());
            }
            weightSum += entry.getValue();
        }
        if (tableSize <= weightSum || !isPrime(tableSize)) {
            throw new IllegalArgumentException("tableSize must be a prime larger than the sum of weights " + weightSum
                    + ", got " + tableSize);
        }
        String[] servers = sorted.keySet().toArray(String[]::new);
        int[] serverWeights = sorted.values().stream().mapToInt(Integer::intValue).toArray();
        int[] table = populate(servers, serverWeights, tableSize);
        return new Maglev(servers, Collections.unmodifiableMap(sorted), table);
    }

    private static int[] populate(String[] servers, int[] weights, int tableSize) {
        int n = servers.length;
        // Each server walks its permutation offset, offset + skip, offset + 2 * skip, ... (mod tableSize), kept as
        // the current slot and advanced by one addition, which is the same walk without a multiplication per probe.
        int[] position = new int[n];
        int[] skip = new int[n];
        for (int i = 0; i < n; i++) {
            position[i] = (int) Math.floorMod(Hashing.hash64(servers[i], OFFSET_SEED), (long) tableSize);
            skip[i] = (int) Math.floorMod(Hashing.hash64(servers[i], SKIP_SEED), (long) tableSize - 1) + 1;
        }
        int[] table = new int[tableSize];
        Arrays.fill(table, -1);
        int filled = 0;
        while (true) {
            for (int i = 0; i < n; i++) {
                for (int turn = 0; turn < weights[i]; turn++) {
                    int slot = position[i];
                    while (table[slot] >= 0) {
                        slot = advance(slot, skip[i], tableSize);
                    }
                    table[slot] = i;
                    position[i] = advance(slot, skip[i], tableSize);
                    filled++;
                    if (filled == tableSize) {
                        return table;
                    }
                }
            }
        }
    }

    private static int advance(int slot, int skip, int tableSize) {
        int next = slot + skip;
        // slot and skip are below tableSize <= MAX_TABLE_SIZE, so the sum cannot overflow an int.
        return next >= tableSize ? next - tableSize : next;
    }

    private static boolean isPrime(int value) {
        return java.math.BigInteger.valueOf(value).isProbablePrime(32);
    }

    /** Returns the server that {@code key} maps to. */
    public String lookup(String key) {
        return servers[table[slotOf(key)]];
    }

    /**
     * Returns up to {@code count} distinct servers in the key's preference order: the owner of its slot, then the
     * owners of the following slots in table order, each server once. Bounded loads walk this order when the first
     * choice is full.
     */
    public List<String> preference(String key, int count) {
        var order = new ArrayList<String>(Math.min(count, servers.length));
        boolean[] seen = new boolean[servers.length];
        int slot = slotOf(key);
        for (int step = 0; step < table.length && order.size() < count && order.size() < servers.length; step++) {
            int server = table[slot];
            if (!seen[server]) {
                seen[server] = true;
                order.add(servers[server]);
            }
            slot = slot + 1 == table.length ? 0 : slot + 1;
        }
        return order;
    }

    /**
     * Returns the first server in the key's {@linkplain #preference preference order} that {@code accept} accepts,
     * or null when it accepts none. Calls {@code accept} at most once per server.
     */
    public String firstAccepted(String key, Predicate<String> accept) {
        boolean[] seen = new boolean[servers.length];
        int distinct = 0;
        int slot = slotOf(key);
        for (int step = 0; step < table.length && distinct < servers.length; step++) {
            int server = table[slot];
            if (!seen[server]) {
                seen[server] = true;
                distinct++;
                if (accept.test(servers[server])) {
                    return servers[server];
                }
            }
            slot = slot + 1 == table.length ? 0 : slot + 1;
        }
        return null;
    }

    /** Returns the table slot that {@code key} hashes to, from 0 to {@link #tableSize()} - 1. */
    public int slotOf(String key) {
        return Math.floorMod(Hashing.hash64(key, KEY_SEED), table.length);
    }

    /** Returns the server that owns a table slot. */
    public String serverAt(int slot) {
        return servers[table[slot]];
    }

    public int tableSize() {
        return table.length;
    }

    /** Returns the members and their weights, sorted by server id. */
    public Map<String, Integer> weights() {
        return weights;
    }

    /** Returns the server ids sorted. */
    public List<String> servers() {
        return Collections.unmodifiableList(new ArrayList<>(Arrays.asList(servers)));
    }
}
