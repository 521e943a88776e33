package dev.backbone.launcher.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;

/**
 * The entry point of each service JVM of a {@link Cluster}: {@code ServiceRunner MAIN_CLASS [ARGS...]} runs that
 * service's {@code main} and exits, through the service's own shutdown hooks, when its standard input closes. The
 * cluster keeps that input open, so a service never outlives the cluster process, even when the cluster process is
 * killed with SIGKILL and cannot stop its services itself.
 */
public final class ServiceRunner {

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
        System.exit(0);
    }
}
