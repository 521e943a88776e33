package dev.backbone.launcher;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongFunction;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Sends requests at the times a schedule names, whether or not earlier requests got their response (open loop), and
 * measures each latency from its intended send time. A server that stalls therefore shows its stall in the
 * percentiles instead of slowing the load down: the correction for coordinated omission.
 */
public final class OpenLoopRunner {

    /**
     * One request of a schedule.
     *
     * @param offsetNanos when to send it, counted from the start of the run
     * @param request     what to send
     * @param write       whether it changes data, for the summary
     */
    public record Scheduled(long offsetNanos, RequestSender.Request request, boolean write) {
    }

    /**
     * Returns a schedule of {@code total} requests evenly spaced at {@code ratePerSecond}; {@code requestAt} makes the
     * request for a send offset in nanoseconds.
     */
    public static Iterator<Scheduled> constantRate(long total, double ratePerSecond, LongFunction<Scheduled> requestAt) {
        double intervalNanos = 1e9 / ratePerSecond;
        return new Iterator<>() {
            private long index;

            @Override
            public boolean hasNext() {
                return index < total;
            }

            @Override
            public Scheduled next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return requestAt.apply((long) (index++ * intervalNanos));
            }
        };
    }

    private final RequestSender sender;
    private final int maxInFlight;
    private final PrintStream progress;

    public OpenLoopRunner(RequestSender sender, int maxInFlight, PrintStream progress) {
        this.sender = sender;
        this.maxInFlight = maxInFlight;
        this.progress = progress;
    }

    /** Runs the whole schedule and waits for every response. {@code total} is only for the progress bar. */
    public RunResult run(Iterator<Scheduled> schedule, long total) throws InterruptedException {
        var inFlight = new Semaphore(maxInFlight);
        var recorder = new Recorder(3);
        var progressHistogram = new Histogram(3);
        var statusCounts = new ConcurrentHashMap<Integer, LongAdder>();
        var writesAccepted = new LongAdder();
        var completed = new AtomicLong();
        var firstFailure = new java.util.concurrent.atomic.AtomicReference<Throwable>();
        long sent = 0;
        long startedAt = System.nanoTime();
        long nextProgressAt = startedAt + 1_000_000_000L;

        while (schedule.hasNext()) {
            Scheduled next = schedule.next();
            long intendedAt = startedAt + next.offsetNanos();
            for (long wait = intendedAt - System.nanoTime(); wait > 0; wait = intendedAt - System.nanoTime()) {
                LockSupport.parkNanos(Math.min(wait, 10_000_000L));
            }
            inFlight.acquire();
            sent++;
            sender.send(next.request()).whenComplete((status, error) -> {
                recorder.recordValue(Math.max(1, (System.nanoTime() - intendedAt) / 1_000));
                int code = error != null ? 0 : status;
                if (error != null) {
                    firstFailure.compareAndSet(null, error);
                }
                statusCounts.computeIfAbsent(code, c -> new LongAdder()).increment();
                if (next.write() && code == 200) {
                    writesAccepted.increment();
                }
                completed.incrementAndGet();
                inFlight.release();
            });
            long now = System.nanoTime();
            if (now >= nextProgressAt) {
                progressHistogram.add(recorder.getIntervalHistogram());
                printProgress(sent, total, completed.get(), statusCounts, now - startedAt, progressHistogram);
                nextProgressAt = now + 1_000_000_000L;
            }
        }
        inFlight.acquire(maxInFlight);
        long elapsed = System.nanoTime() - startedAt;
        Histogram latency = recorder.getIntervalHistogram();
        latency.add(progressHistogram);
        printProgress(sent, total, completed.get(), statusCounts, elapsed, latency);
        if (firstFailure.get() != null) {
            progress.println("First failed request: " + rootCause(firstFailure.get()));
        }

        Map<Integer, Long> counts = new TreeMap<>();
        statusCounts.forEach((status, adder) -> counts.put(status, adder.sum()));
        return new RunResult(sent, counts, writesAccepted.sum(), Duration.ofNanos(elapsed), latency);
    }

    /** Returns the innermost cause as {@code ClassName: message}, such as {@code ConnectException: Connection refused}. */
    static String rootCause(Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    private void printProgress(long sent, long total, long completed, Map<Integer, LongAdder> statusCounts, long elapsedNanos,
                               Histogram latency) {
        long errors = statusCounts.entrySet().stream().filter(e -> e.getKey() == 0 || e.getKey() >= 500)
                .mapToLong(e -> e.getValue().sum()).sum();
        int width = 30;
        int filled = total <= 0 ? 0 : (int) Math.min(width, width * sent / total);
        String bar = "#".repeat(filled) + " ".repeat(width - filled);
        double seconds = elapsedNanos / 1e9;
        progress.printf("[%s] %3.0f%% %,d/%,d sent, %,d answered, %,.0f req/s, p99 %.1f ms, %,d errors, %.0f s%n",
                bar, total <= 0 ? 0.0 : 100.0 * sent / total, sent, total, completed, completed / Math.max(seconds, 1e-9),
                latency.getTotalCount() == 0 ? 0.0 : latency.getValueAtPercentile(99) / 1000.0, errors, seconds);
    }
}
