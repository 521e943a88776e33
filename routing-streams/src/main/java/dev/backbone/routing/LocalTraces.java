package dev.backbone.routing;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The routing traces of the tasks that run on this instance, by input partition: the route processor of each task
 * registers its {@link RoutingTraces} when it starts and removes them when it closes, and the trace query reads them.
 * Thread-safe.
 */
final class LocalTraces {

    private final Map<Integer, RoutingTraces> byPartition = new ConcurrentHashMap<>();

    void register(int partition, RoutingTraces traces) {
        byPartition.put(partition, traces);
    }

    /** Removes the traces of {@code partition} if they are still {@code traces}, not those of a newer task. */
    void unregister(int partition, RoutingTraces traces) {
        byPartition.remove(partition, traces);
    }

    /**
     * Returns the trace of {@code requestId} from any local task, or null when none has it.
     *
     * @param batchStores returns the batch store of a partition, as an interactive query returns it; it may throw
     *                    {@link org.apache.kafka.streams.errors.InvalidStateStoreException} while the partition moves
     */
    RoutingTrace find(String requestId, IntFunction<ReadOnlyKeyValueStore<Long, byte[]>> batchStores) {
        for (Map.Entry<Integer, RoutingTraces> task : byPartition.entrySet()) {
            int partition = task.getKey();
            RoutingTrace trace = task.getValue().find(requestId, () -> batchStores.apply(partition));
            if (trace != null) {
                return trace;
            }
        }
        return null;
    }
}
