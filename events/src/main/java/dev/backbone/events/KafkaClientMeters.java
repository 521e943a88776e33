package dev.backbone.events;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * Binds the metrics of a service's long-lived Kafka producers and consumers to its registry as Micrometer's
 * {@code kafka.*} meters, and removes them again on {@link #close()}.
 *
 * <p>Micrometer's binder tags each meter with {@code client.id} and {@code kafka.version}, and per-partition consumer
 * meters also with {@code topic} and {@code partition}. Those tags stay bounded because a service has a fixed handful of
 * clients, each with a client id taken from configuration, and the topics have a fixed partition count.
 *
 * <p>All binders of one instance share one daemon thread that refreshes the meter list every minute, because a client
 * registers some metrics only after it connects. Thread-safe. Close it before the clients it watches.
 */
public final class KafkaClientMeters implements AutoCloseable {

    private final MeterRegistry registry;
    private final ScheduledExecutorService refresher;
    private final List<KafkaClientMetrics> binders = new ArrayList<>();
    private boolean closed;

    /** Creates an instance that binds to {@code registry}, with {@code name} in the name of its refresh thread, such as {@code ingest-1}. */
    public KafkaClientMeters(MeterRegistry registry, String name) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.refresher = Executors.newSingleThreadScheduledExecutor(runnable -> {
            var thread = new Thread(runnable, "kafka-client-meters-" + name);
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Binds the metrics of {@code producer}.
     *
     * @throws IllegalStateException when this instance is closed
     */
    public synchronized void bind(Producer<?, ?> producer) {
        add(new KafkaClientMetrics(producer, List.of(), refresher));
    }

    /**
     * Binds the metrics of {@code consumer}. Reading them from another thread is safe, because
     * {@code KafkaConsumer.metrics()} takes no lock in Kafka 4.3.
     *
     * @throws IllegalStateException when this instance is closed
     */
    public synchronized void bind(Consumer<?, ?> consumer) {
        add(new KafkaClientMetrics(consumer, List.of(), refresher));
    }

    private void add(KafkaClientMetrics binder) {
        if (closed) {
            throw new IllegalStateException("cannot bind Kafka client metrics: this KafkaClientMeters is closed");
        }
        binder.bindTo(registry);
        binders.add(binder);
    }

    /** Removes every bound meter from the registry and stops the refresh thread. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        refresher.shutdownNow();
        binders.forEach(KafkaClientMetrics::close);
        binders.clear();
    }
}
