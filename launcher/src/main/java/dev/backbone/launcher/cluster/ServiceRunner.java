package dev.backbone.launcher.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

/**
 * The entry point of each service JVM of a {@link Cluster}: {@code ServiceRunner MAIN_CLASS [ARGS...]} runs that
 * service's {@code main} and exits, through the service's own shutdown hooks, when its standard input closes. The
 * cluster keeps that input open, so a service never outlives the cluster process, even when the cluster process is
 * killed with SIGKILL and cannot stop its services itself.
 */
public final class ServiceRunner {

    /** The system property that sets how long, in milliseconds, shutdown hooks may run before the JVM halts. */
    static final String HALT_AFTER_PROPERTY = "backbone.cluster.halt.after.ms";
    /** How long the shutdown hooks may run after the cluster process is gone before the JVM halts. */
    static final Duration HALT_AFTER = Duration.ofMillis(Long.getLong(HALT_AFTER_PROPERTY, 15_000));

    private ServiceRunner() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: ServiceRunner MAIN_CLASS [ARGS...]");
            System.exit(2);
        }
        Thread watchdog = new Thread(ServiceRunner::exitWhenInputCloses, "cluster-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        try {
            Class.forName(args[0]).getMethod("main", String[].class)
                    .invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    private static void exitWhenInputCloses() {
        try {
            InputStream in = System.in;
            while (in.read() >= 0) {
                // The cluster writes nothing; any byte is ignored.
            }
        } catch (IOException e) {
            // A broken pipe means the same as end of input: the cluster process is gone.
        }
        System.err.println("The cluster process is gone; stopping this service");
        // The broker usually went with the cluster process, and a Kafka client's close can wait for it until its
        // delivery timeout (2 min by default), so a shutdown hook that hangs must not keep the JVM alive.
        Thread halt = new Thread(() -> {
            LockSupport.parkNanos(HALT_AFTER.toNanos());
            System.err.println("The service did not stop within " + HALT_AFTER.toMillis() + " ms; halting");
            Runtime.getRuntime().halt(1);
        }, "cluster-watchdog-halt");
        halt.setDaemon(true);
        halt.start();
        System.exit(0);
    }
}
