package dev.backbone.embedded;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Deletes temporary directories, logging instead of failing when a file cannot be removed. */
final class TempDirs {

    private static final Logger log = LoggerFactory.getLogger(TempDirs.class);

    private TempDirs() {
    }

    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    log.warn("Cannot delete {}: {}", path, e.toString());
                }
            });
        } catch (IOException e) {
            log.warn("Cannot delete temporary directory {}: {}", dir, e.toString());
        }
    }
}
