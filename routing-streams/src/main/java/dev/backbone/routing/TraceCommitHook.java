package dev.backbone.routing;

import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.state.StoreBuilder;

/**
 * A state store without data that runs an action whenever Kafka Streams commits the stores of its task. Kafka Streams
 * 4.3 does that at every commit of the task, right after it committed the task's input offsets. The route processor
 * writes its pending routing traces there ({@link RoutingTraces#flush()}). Processor API stores have no other hook
 * into the commit. Used on the stream thread only.
 */
final class TraceCommitHook implements StateStore {

    private final String name;
    private volatile boolean open;
    private Runnable onCommit = () -> { };

    private TraceCommitHook(String name) {
        this.name = name;
    }

    /** Returns a builder of the hook; the hook has no changelog and no cache, whatever the builder is asked. */
    static StoreBuilder<TraceCommitHook> builder(String name) {
        return new Builder(name);
    }

    /** Sets what runs at each commit of the task, replacing the previous action. */
    void onCommit(Runnable action) {
        this.onCommit = action;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void init(StateStoreContext context, StateStore root) {
        // Nothing to restore: the store has no changelog.
        context.register(root, (key, value) -> { });
        open = true;
    }

    @Override
    public void commit(Map<TopicPartition, Long> changelogOffsets) {
        onCommit.run();
    }

    @Override
    public void close() {
        open = false;
        onCommit = () -> { };
    }

    @Override
    public boolean persistent() {
        return false;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    private record Builder(String name) implements StoreBuilder<TraceCommitHook> {

        @Override
        public StoreBuilder<TraceCommitHook> withCachingEnabled() {
            return this;
        }

        @Override
        public StoreBuilder<TraceCommitHook> withCachingDisabled() {
            return this;
        }

        @Override
        public StoreBuilder<TraceCommitHook> withLoggingEnabled(Map<String, String> config) {
            throw new UnsupportedOperationException("the trace commit hook " + name + " has no data, so it cannot have a changelog");
        }

        @Override
        public StoreBuilder<TraceCommitHook> withLoggingDisabled() {
            return this;
        }

        @Override
        public TraceCommitHook build() {
            return new TraceCommitHook(name);
        }

        @Override
        public Map<String, String> logConfig() {
            return Map.of();
        }

        @Override
        public boolean loggingEnabled() {
            return false;
        }
    }
}
