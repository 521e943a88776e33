package dev.backbone.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The order in which one client tries the addresses of an A record: a uniform Fisher–Yates shuffle seeded by the
 * client id, the record name and the record version. A client keeps its order while the record is unchanged, and
 * different clients fall back to different neighbours when their first address is dead.
 */
final class AddressOrder {

    private AddressOrder() {
    }

    /** Returns a shuffled copy of {@code addresses} for this client, record name and version. */
    static List<String> forClient(List<String> addresses, String clientId, String recordName, long recordVersion) {
        long seed = Hashing.hash64(clientId, 1) ^ Hashing.hash64(recordName, 2) ^ Hashing.mix(recordVersion + 3);
        var random = new SplittableRandom(seed);
        var order = new ArrayList<>(addresses);
        for (int i = order.size() - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            var swapped = order.get(i);
            order.set(i, order.get(j));
            order.set(j, swapped);
        }
        return order;
    }
}
