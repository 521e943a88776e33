package dev.backbone.events;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Configuration values of one service, looked up in this order: explicit overrides, environment variables, a
 * properties file, the default passed by the caller. A key such as {@code heartbeat.interval.ms} is read from the
 * environment variable {@code BACKBONE_HEARTBEAT_INTERVAL_MS}.
 *
 * <p>Typed getters never throw: an invalid value is recorded and the default returned, so that a service can read
 * every key and then call {@link #requireValid(String)} once to report every problem together. Not thread-safe; read
 * configuration on one thread at start-up.
 *
 * <p>Every getter, {@link #raw(String)} included, records the key it looked up, so that {@link #keysRead()} lists the
 * keys a configuration record reads. Checks of deployment files use it to find keys that no code reads, such as a
 * misspelled environment variable.
 */
public final class Settings {

    private final Map<String, String> values;
    private final List<String> problems = new ArrayList<>();
    private final Set<String> keysRead = new LinkedHashSet<>();
    private final Set<String> requiredKeys = new LinkedHashSet<>();

    private Settings(Map<String, String> values) {
        this.values = values;
    }

    /** Returns settings from explicit key-value pairs only, for tests and the one-JVM launcher. */
    public static Settings of(Map<String, String> values) {
        return new Settings(new HashMap<>(values));
    }

    /**
     * Loads settings from a properties file (when not null), then the environment, then the overrides.
     *
     * @throws UncheckedIOException when the file exists but cannot be read
     */
    public static Settings load(Path propertiesFile, Map<String, String> environment, Map<String, String> overrides) {
        Map<String, String> merged = new HashMap<>();
        if (propertiesFile != null) {
            var properties = new Properties();
            try (Reader reader = Files.newBufferedReader(propertiesFile, StandardCharsets.UTF_8)) {
                properties.load(reader);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read configuration file " + propertiesFile, e);
            }
            properties.stringPropertyNames().forEach(name -> merged.put(name, properties.getProperty(name).trim()));
        }
        environment.forEach((name, value) -> {
            if (name.startsWith("BACKBONE_")) {
                merged.put(name.substring("BACKBONE_".length()).toLowerCase(Locale.ROOT).replace('_', '.'), value.trim());
            }
        });
        merged.putAll(overrides);
        return new Settings(merged);
    }

    /** Returns a copy with one more value set, replacing any earlier value of that key. */
    public Settings with(String key, String value) {
        var copy = new HashMap<>(values);
        copy.put(key, value);
        return new Settings(copy);
    }

    /** Returns the raw value of a key, or {@code null} when it is not set. */
    public String raw(String key) {
        return lookUp(key);
    }

    /** Returns the value of a key and records that the key was read. */
    private String lookUp(String key) {
        keysRead.add(key);
        return values.get(key);
    }

    /** Returns every key that starts with {@code prefix}, with the prefix removed, sorted by key. */
    public SortedMap<String, String> withPrefix(String prefix) {
        var matching = new TreeMap<String, String>();
        values.forEach((key, value) -> {
            if (key.startsWith(prefix) && key.length() > prefix.length()) {
                matching.put(key.substring(prefix.length()), value);
            }
        });
        return matching;
    }

    /** Returns every key looked up so far, by any getter or {@link #raw(String)}, in the order of the first look-up. */
    public Set<String> keysRead() {
        return Collections.unmodifiableSet(new LinkedHashSet<>(keysRead));
    }

    /** Returns the keys looked up through {@link #requiredString(String, String)}, whether they were set or not. */
    public Set<String> requiredKeys() {
        return Collections.unmodifiableSet(new LinkedHashSet<>(requiredKeys));
    }

    /** Returns every key that has a value, from any source. */
    public Set<String> keysSet() {
        return Collections.unmodifiableSet(new TreeSet<>(values.keySet()));
    }

    public String string(String key, String defaultValue) {
        String value = lookUp(key);
        if (value == null) {
            return defaultValue;
        }
        if (value.isBlank()) {
            problems.add(key + " is blank; set a value or remove the key to use the default '" + defaultValue + "'");
            return defaultValue;
        }
        return value;
    }

    /** Returns a required text value; a missing one is recorded as a problem and an empty string returned. */
    public String requiredString(String key, String hint) {
        requiredKeys.add(key);
        String value = lookUp(key);
        if (value == null || value.isBlank()) {
            problems.add(key + " is required: " + hint);
            return "";
        }
        return value;
    }

    public int integer(String key, int defaultValue, int min, int max) {
        return (int) longValue(key, defaultValue, min, max);
    }

    public long longValue(String key, long defaultValue, long min, long max) {
        String value = lookUp(key);
        if (value == null) {
            return defaultValue;
        }
        try {
            long parsed = Long.parseLong(value.trim());
            if (parsed < min || parsed > max) {
                problems.add(key + "=" + value + " is out of range; accepted: an integer from " + min + " to " + max);
                return defaultValue;
            }
            return parsed;
        } catch (NumberFormatException e) {
            problems.add(key + "=" + value + " is not an integer; accepted: an integer from " + min + " to " + max);
            return defaultValue;
        }
    }

    public double doubleValue(String key, double defaultValue, double min, double max) {
        String value = lookUp(key);
        if (value == null) {
            return defaultValue;
        }
        try {
            double parsed = Double.parseDouble(value.trim());
            if (!(parsed >= min && parsed <= max)) {
                problems.add(key + "=" + value + " is out of range; accepted: a number from " + min + " to " + max);
                return defaultValue;
            }
            return parsed;
        } catch (NumberFormatException e) {
            problems.add(key + "=" + value + " is not a number; accepted: a number from " + min + " to " + max);
            return defaultValue;
        }
    }

    public boolean bool(String key, boolean defaultValue) {
        String value = lookUp(key);
        if (value == null) {
            return defaultValue;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> {
                problems.add(key + "=" + value + " is not a boolean; accepted: true, false");
                yield defaultValue;
            }
        };
    }

    /** Returns a comma-separated list with blank items dropped. */
    public List<String> list(String key, List<String> defaultValue) {
        String value = lookUp(key);
        if (value == null) {
            return defaultValue;
        }
        return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    /** Returns one of the accepted values, compared case-insensitively and returned in the case given in {@code accepted}. */
    public String oneOf(String key, String defaultValue, List<String> accepted) {
        String value = lookUp(key);
        if (value == null) {
            return defaultValue;
        }
        for (String candidate : accepted) {
            if (candidate.equalsIgnoreCase(value.trim())) {
                return candidate;
            }
        }
        problems.add(key + "=" + value + " is not accepted; accepted: " + String.join(", ", accepted));
        return defaultValue;
    }

    /** Records a problem found by a cross-key check; name every key involved and the fix. */
    public void addProblem(String problem) {
        problems.add(problem);
    }

    /**
     * Throws when any getter met an invalid value.
     *
     * @throws IllegalArgumentException listing every problem, one per line
     */
    public void requireValid(String serviceName) {
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid " + serviceName + " configuration:\n  " + String.join("\n  ", problems));
        }
    }
}
