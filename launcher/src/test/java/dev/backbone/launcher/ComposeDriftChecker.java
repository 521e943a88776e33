package dev.backbone.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.appserver.AppServerConfig;
import dev.backbone.cdn.EdgeConfig;
import dev.backbone.events.Json;
import dev.backbone.events.Settings;
import dev.backbone.events.Topic;
import dev.backbone.events.Topics;
import dev.backbone.ingest.IngestConfig;
import dev.backbone.invalidator.CacheInvalidatorConfig;
import dev.backbone.routing.RoutingConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.yaml.snakeyaml.Yaml;

/**
 * Compares the compose deployment files with the code and lists every mismatch.
 *
 * <p>For each compose service that runs a Backbone main class it builds that service's configuration record from the
 * service's environment, exactly as the main class does, and then checks:
 * <ul>
 *   <li>every {@code BACKBONE_*} variable maps to a key the record read ({@link Settings#keysRead()}), or to a variable
 *       the logging configuration reads;</li>
 *   <li>every key the record requires is set, and the record accepts the values;</li>
 *   <li>the service binds its ports on every interface, and publishes only ports it listens on;</li>
 *   <li>addresses that point at other services (the routing {@code application.server}, an edge's {@code origin.url},
 *       an app server's {@code cdn.edges}) name the right service and port.</li>
 * </ul>
 * Across the deployment it checks that every topic name in an environment value or a Kafka Connect connector
 * configuration is a topic in {@link Topics}, that the connector captures the tables the cache invalidator maps, that
 * {@code ${env:NAME}} references of connector configurations are set on the Connect worker, and that the Prometheus
 * scrape targets are exactly the services' metrics ports.
 *
 * <p>Compose variable interpolation is resolved with the defaults written in the file ({@code ${NAME:-default}}), as a
 * run without a {@code .env} file resolves it.
 */
final class ComposeDriftChecker {

    /** Where a service listens, and whether Prometheus scrapes that port. */
    record Listener(String name, String host, int port, boolean servesMetrics) {
    }

    /**
     * A Backbone main class with the configuration record it builds.
     *
     * @param mainClass  the class name in the compose {@code command}
     * @param readConfig the record's {@code from(Settings)} method
     * @param listeners  the addresses the service binds, read from the record
     */
    record ServiceKind(String mainClass, Function<Settings, Object> readConfig, Function<Object, List<Listener>> listeners) {
    }

    /** A compose service that runs a Backbone main class, with its configuration as the main class reads it. */
    record JavaService(String name, ServiceKind kind, Object config, List<Listener> listeners, List<Integer[]> ports) {
    }

    static final List<ServiceKind> KINDS = List.of(
            new ServiceKind("dev.backbone.ingest.Main", IngestConfig::from, config -> {
                var ingest = (IngestConfig) config;
                return List.of(new Listener("http", ingest.httpHost(), ingest.httpPort(), false),
                        new Listener("metrics", ingest.metricsHost(), ingest.metricsPort(), true));
            }),
            new ServiceKind("dev.backbone.routing.Main", RoutingConfig::from, config -> {
                var routing = (RoutingConfig) config;
                return List.of(new Listener("rest", routing.restHost(), routing.restPort(), true));
            }),
            new ServiceKind("dev.backbone.appserver.Main", AppServerConfig::from, config -> {
                var app = (AppServerConfig) config;
                return List.of(new Listener("metrics", app.metricsHost(), app.metricsPort(), true));
            }),
            new ServiceKind("dev.backbone.invalidator.Main", CacheInvalidatorConfig::from, config -> {
                var invalidator = (CacheInvalidatorConfig) config;
                return List.of(new Listener("metrics", invalidator.metricsHost(), invalidator.metricsPort(), true));
            }),
            new ServiceKind("dev.backbone.cdn.Main", EdgeConfig::from, config -> {
                var edge = (EdgeConfig) config;
                return List.of(new Listener("http", edge.httpHost(), edge.httpPort(), true));
            }),
            new ServiceKind(ClusterSetup.class.getName(), ClusterSetupConfig::from, config -> List.of()));

    private static final Pattern INTERPOLATION = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?}");
    private static final Pattern TOPIC_NAME = Pattern.compile("(?<![\\w./-])backbone\\.[a-z0-9][a-z0-9-]*(?![\\w.])");
    private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)}");
    private static final Pattern LOGGING_VARIABLE = Pattern.compile("\\$\\{(BACKBONE_[A-Z0-9_]+)");
    private static final Set<String> WILDCARD_HOSTS = Set.of("0.0.0.0", "::", "[::]");
    private static final String PREFIX = "BACKBONE_";

    private final Map<String, Object> compose;
    private final Map<String, Object> prometheus;
    private final Map<String, JsonNode> connectors;
    private final Set<String> loggingVariables;
    private final List<String> problems = new ArrayList<>();
    private final Map<String, Map<String, String>> environments = new LinkedHashMap<>();
    /** Services that run a Backbone main class, whether or not their configuration is valid. */
    private final Set<String> backboneServices = new LinkedHashSet<>();
    /** Services whose configuration record could be built, with it. */
    private final Map<String, JavaService> javaServices = new LinkedHashMap<>();

    /**
     * @param compose          the parsed compose file
     * @param prometheus       the parsed Prometheus configuration
     * @param connectors       Kafka Connect connector files ({@code {"name", "config"}}) by file name
     * @param loggingVariables environment variables that the logging configuration reads, such as BACKBONE_LOG_LEVEL
     */
    ComposeDriftChecker(Map<String, Object> compose, Map<String, Object> prometheus, Map<String, JsonNode> connectors,
                        Set<String> loggingVariables) {
        this.compose = compose;
        this.prometheus = prometheus;
        this.connectors = connectors;
        this.loggingVariables = loggingVariables;
    }

    /** Loads {@code docker-compose.yml}, {@code prometheus/prometheus.yml} and {@code connect/*.json} of a compose folder. */
    static ComposeDriftChecker load(Path composeDir) {
        var connectors = new LinkedHashMap<String, JsonNode>();
        try (Stream<Path> files = Files.list(composeDir.resolve("connect"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                connectors.put(file.getFileName().toString(), Json.mapper().readTree(file.toFile()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("failed to read the connector files in " + composeDir.resolve("connect"), e);
        }
        return new ComposeDriftChecker(yaml(composeDir.resolve("docker-compose.yml")),
                yaml(composeDir.resolve("prometheus/prometheus.yml")), connectors, loggingVariables());
    }

    /** Parses YAML with anchors, aliases and merge keys resolved, as Docker Compose and Prometheus read it. */
    static Map<String, Object> yaml(Path file) {
        try {
            return parseYaml(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("failed to read " + file, e);
        }
    }

    /** Returns the services of {@code docker-compose.yml} in a compose folder, by name. */
    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Object>> yamlServices(Path composeDir) {
        Object services = yaml(composeDir.resolve("docker-compose.yml")).get("services");
        return services instanceof Map<?, ?> map ? (Map<String, Map<String, Object>>) map : Map.of();
    }

    static Map<String, Object> parseYaml(String text) {
        Map<String, Object> parsed = new Yaml().load(text);
        return parsed == null ? Map.of() : parsed;
    }

    /** Returns the BACKBONE_* variables that the launcher's logback.xml reads, such as BACKBONE_LOG_LEVEL. */
    static Set<String> loggingVariables() {
        try (InputStream in = ClusterSetup.class.getClassLoader().getResourceAsStream("logback.xml")) {
            if (in == null) {
                throw new IllegalStateException("logback.xml is not on the class path");
            }
            Matcher matcher = LOGGING_VARIABLE.matcher(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            var names = new TreeSet<String>();
            while (matcher.find()) {
                names.add(matcher.group(1));
            }
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException("failed to read logback.xml", e);
        }
    }

    /** Runs every check and returns the problems found, one sentence each, or an empty list when files and code agree. */
    List<String> problems() {
        problems.clear();
        environments.clear();
        backboneServices.clear();
        javaServices.clear();
        services().forEach((name, service) -> environments.put(name, environment(name, service)));
        services().forEach(this::checkService);
        checkTopicNames();
        checkConnectors();
        checkReferences();
        checkScrapeTargets();
        return List.copyOf(problems);
    }

    /** Returns the compose services that run a Backbone main class with a valid configuration, after {@link #problems()} ran. */
    Map<String, JavaService> javaServices() {
        return javaServices;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Map<String, Object>> services() {
        Object services = compose.get("services");
        return services instanceof Map<?, ?> map ? (Map<String, Map<String, Object>>) map : Map.of();
    }

    /** Returns the service's environment with compose interpolation resolved to the file's defaults. */
    private Map<String, String> environment(String service, Map<String, Object> definition) {
        var environment = new LinkedHashMap<String, String>();
        Object raw = definition.get("environment");
        if (raw instanceof Map<?, ?> map) {
            map.forEach((name, value) -> environment.put(String.valueOf(name), value == null ? null : String.valueOf(value)));
        } else if (raw instanceof List<?> list) {
            for (Object item : list) {
                String entry = String.valueOf(item);
                int equals = entry.indexOf('=');
                environment.put(equals < 0 ? entry : entry.substring(0, equals), equals < 0 ? null : entry.substring(equals + 1));
            }
        }
        environment.replaceAll((name, value) -> {
            if (value == null) {
                problems.add(service + ": " + name + " has no value, so compose copies it from the shell; set a value");
                return "";
            }
            return interpolated(service, name, value);
        });
        return environment;
    }

    private String interpolated(String service, String name, String value) {
        Matcher matcher = INTERPOLATION.matcher(value);
        var result = new StringBuilder();
        while (matcher.find()) {
            if (matcher.group(2) == null) {
                problems.add(service + ": " + name + " uses ${" + matcher.group(1) + "} without a default, so the "
                        + "deployment does not start without a .env file; write ${" + matcher.group(1) + ":-DEFAULT}");
            }
            matcher.appendReplacement(result, Matcher.quoteReplacement(matcher.group(2) == null ? "" : matcher.group(2)));
        }
        matcher.appendTail(result);
        return result.toString().replace("$$", "$");
    }

    private void checkService(String name, Map<String, Object> definition) {
        Map<String, String> environment = environments.get(name);
        String mainClass = mainClass(definition);
        if (mainClass == null) {
            return;
        }
        backboneServices.add(name);
        ServiceKind kind = KINDS.stream().filter(k -> k.mainClass().equals(mainClass)).findFirst().orElse(null);
        if (kind == null) {
            problems.add(name + ": runs " + mainClass + ", which ComposeDriftChecker.KINDS does not list; add its "
                    + "configuration record there");
            return;
        }
        Settings settings = Settings.load(null, environment, Map.of());
        Object config = null;
        try {
            config = kind.readConfig().apply(settings);
        } catch (IllegalArgumentException e) {
            problems.add(name + ": " + e.getMessage().replace("\n", " "));
        }
        checkVariables(name, kind, settings, environment);
        if (config == null) {
            return;
        }
        List<Listener> listeners = kind.listeners().apply(config);
        var service = new JavaService(name, kind, config, listeners, ports(name, definition));
        javaServices.put(name, service);
        checkListeners(service);
    }

    private void checkVariables(String service, ServiceKind kind, Settings settings, Map<String, String> environment) {
        Set<String> keysRead = settings.keysRead();
        for (String variable : environment.keySet()) {
            if (!variable.startsWith(PREFIX) || loggingVariables.contains(variable)) {
                continue;
            }
            String key = variable.substring(PREFIX.length()).toLowerCase(java.util.Locale.ROOT).replace('_', '.');
            if (!keysRead.contains(key)) {
                problems.add(service + ": " + variable + " sets " + key + ", which " + kind.mainClass()
                        + " does not read; keys it reads: " + String.join(", ", new TreeSet<>(keysRead)));
            }
        }
        for (String required : settings.requiredKeys()) {
            if (!settings.keysSet().contains(required)) {
                problems.add(service + ": " + kind.mainClass() + " requires " + required + "; set "
                        + PREFIX + required.toUpperCase(java.util.Locale.ROOT).replace('.', '_'));
            }
        }
    }

    private void checkListeners(JavaService service) {
        for (Listener listener : service.listeners()) {
            if (listener.port() != -1 && !WILDCARD_HOSTS.contains(listener.host())) {
                problems.add(service.name() + ": the " + listener.name() + " port binds " + listener.host()
                        + ", which other containers cannot reach; bind 0.0.0.0");
            }
        }
        Set<Integer> listening = service.listeners().stream().map(Listener::port).collect(Collectors.toSet());
        for (Integer[] port : service.ports()) {
            if (!listening.contains(port[1])) {
                problems.add(service.name() + ": publishes container port " + port[1] + ", on which it does not listen; "
                        + "it listens on " + listening);
            }
        }
    }

    /** Returns the main class of a service whose command runs one, such as dev.backbone.cdn.Main, or null. */
    static String mainClass(Map<String, Object> definition) {
        Object command = definition.get("command");
        List<String> words = command instanceof List<?> list ? list.stream().map(String::valueOf).toList()
                : command == null ? List.of() : Arrays.asList(String.valueOf(command).trim().split("\\s+"));
        return words.stream().filter(word -> word.startsWith("dev.backbone.")).findFirst().orElse(null);
    }

    /** Returns the published ports as {host port, container port}; the host port is null when compose picks one. */
    private List<Integer[]> ports(String service, Map<String, Object> definition) {
        var ports = new ArrayList<Integer[]>();
        if (!(definition.get("ports") instanceof List<?> list)) {
            return ports;
        }
        for (Object entry : list) {
            try {
                if (entry instanceof Map<?, ?> map) {
                    Object published = map.get("published");
                    ports.add(new Integer[] {published == null ? null : Integer.valueOf(String.valueOf(published)),
                            Integer.valueOf(String.valueOf(map.get("target")))});
                } else {
                    String[] parts = String.valueOf(entry).replaceAll("/(tcp|udp)$", "").split(":");
                    Integer container = Integer.valueOf(parts[parts.length - 1]);
                    ports.add(new Integer[] {parts.length == 1 ? null : Integer.valueOf(parts[parts.length - 2]), container});
                }
            } catch (NumberFormatException e) {
                problems.add(service + ": invalid port mapping " + entry + "; write HOST_IP:HOST_PORT:CONTAINER_PORT");
            }
        }
        return ports;
    }

    private void checkTopicNames() {
        Set<String> known = Topics.all().stream().map(Topic::name).collect(Collectors.toCollection(TreeSet::new));
        environments.forEach((service, environment) -> environment.forEach((variable, value) ->
                unknownTopics(value, known).forEach(topic -> problems.add(service + ": " + variable + " names topic "
                        + topic + ", which is not in Topics; topics: " + String.join(", ", known)))));
        connectors.forEach((file, connector) -> connectorConfig(connector).forEach((key, value) ->
                unknownTopics(value, known).forEach(topic -> problems.add("connect/" + file + ": " + key + " names topic "
                        + topic + ", which is not in Topics; topics: " + String.join(", ", known)))));
    }

    private static List<String> unknownTopics(String value, Set<String> known) {
        var unknown = new ArrayList<String>();
        Matcher matcher = TOPIC_NAME.matcher(value);
        while (matcher.find()) {
            if (!known.contains(matcher.group())) {
                unknown.add(matcher.group());
            }
        }
        return unknown;
    }

    private static Map<String, String> connectorConfig(JsonNode connector) {
        var config = new LinkedHashMap<String, String>();
        connector.path("config").fields().forEachRemaining(field -> config.put(field.getKey(), field.getValue().asText()));
        return config;
    }

    private void checkConnectors() {
        Set<String> workerVariables = new LinkedHashSet<>();
        environments.forEach((service, environment) -> {
            if (!backboneServices.contains(service)) {
                environment.keySet().stream().filter(variable -> variable.startsWith(PREFIX)).forEach(workerVariables::add);
            }
        });
        Set<String> referenced = new LinkedHashSet<>();
        connectors.forEach((file, connector) -> {
            Map<String, String> config = connectorConfig(connector);
            config.values().forEach(value -> {
                Matcher matcher = ENV_REFERENCE.matcher(value);
                while (matcher.find()) {
                    referenced.add(matcher.group(1));
                }
            });
            checkRoutedTopic(file, config);
            checkCapturedTables(file, config);
        });
        for (String variable : referenced) {
            if (!workerVariables.contains(variable)) {
                problems.add("connect: a connector reads ${env:" + variable + "}, but no service that runs no Backbone "
                        + "main class sets " + variable + "; set it on the Kafka Connect service");
            }
        }
        for (String variable : workerVariables) {
            if (!referenced.contains(variable)) {
                problems.add("a service that runs no Backbone main class sets " + variable
                        + ", which no connector configuration reads as ${env:" + variable + "}");
            }
        }
    }

    /** Every RegexRouter must route to a Backbone topic, because the invalidator reads only that topic. */
    private void checkRoutedTopic(String file, Map<String, String> config) {
        Set<String> known = Topics.all().stream().map(Topic::name).collect(Collectors.toSet());
        for (String transform : config.getOrDefault("transforms", "").split(",")) {
            String prefix = "transforms." + transform.trim() + ".";
            if (config.getOrDefault(prefix + "type", "").endsWith("RegexRouter")) {
                String replacement = config.getOrDefault(prefix + "replacement", "");
                if (!known.contains(replacement)) {
                    problems.add("connect/" + file + ": " + prefix + "replacement routes to " + replacement
                            + ", which is not a topic in Topics; route to " + Topics.DB_CHANGES.name());
                }
            }
        }
    }

    /** The connector must capture the tables the invalidator maps, and the invalidator must not capture as well. */
    private void checkCapturedTables(String file, Map<String, String> config) {
        String tables = config.get("table.include.list");
        if (tables == null) {
            return;
        }
        Set<String> captured = Arrays.stream(tables.split(",")).map(t -> t.trim().replace("\\.", "."))
                .collect(Collectors.toCollection(TreeSet::new));
        for (JavaService service : javaServices.values()) {
            if (service.config() instanceof CacheInvalidatorConfig invalidator) {
                Set<String> mapped = new TreeSet<>(invalidator.tableIncludeList());
                if (!captured.equals(mapped)) {
                    problems.add("connect/" + file + ": table.include.list captures " + captured + ", but "
                            + service.name() + " maps the tables " + mapped);
                }
                if (invalidator.captureEnabled()) {
                    problems.add(service.name() + ": capture.enabled is true, so it captures changes itself while the "
                            + "connector in connect/" + file + " fills " + Topics.DB_CHANGES.name()
                            + " as well; set BACKBONE_CAPTURE_ENABLED=false");
                }
            }
        }
    }

    private void checkReferences() {
        for (JavaService service : javaServices.values()) {
            if (service.config() instanceof RoutingConfig routing) {
                checkApplicationServer(service, routing);
            } else if (service.config() instanceof EdgeConfig edge) {
                checkOrigin(service, edge);
            } else if (service.config() instanceof AppServerConfig app) {
                app.cdn().edges().forEach((region, url) -> checkEdgeUrl(service.name(), region, url));
            }
        }
    }

    private void checkApplicationServer(JavaService service, RoutingConfig routing) {
        String expected = service.name() + ":" + routing.restPort();
        if (!expected.equals(routing.applicationServer())) {
            problems.add(service.name() + ": application.server is " + routing.applicationServer() + ", but other "
                    + "routing instances reach this one at " + expected);
        }
    }

    private void checkOrigin(JavaService service, EdgeConfig edge) {
        URI origin = edge.originUrl();
        JavaService target = javaServices.get(origin.getHost());
        boolean frontDoor = target != null && target.config() instanceof IngestConfig ingest && ingest.httpPort() == origin.getPort();
        if (!frontDoor) {
            problems.add(service.name() + ": origin.url " + origin + " is not the HTTP port of a request-ingest service");
        }
    }

    /** An app server redirects clients on the host to an edge, so the URL must be a published port of that region's edge. */
    private void checkEdgeUrl(String service, String region, String url) {
        URI uri = URI.create(url);
        for (JavaService candidate : javaServices.values()) {
            if (candidate.config() instanceof EdgeConfig edge && edge.region().equals(region)) {
                boolean published = candidate.ports().stream()
                        .anyMatch(port -> port[0] != null && port[0] == uri.getPort() && port[1] == edge.httpPort());
                if (!published) {
                    problems.add(service + ": cdn.edges sends " + region + " clients to " + url + ", but "
                            + candidate.name() + " does not publish its HTTP port there");
                }
                return;
            }
        }
        problems.add(service + ": cdn.edges names region " + region + ", which no cdn-edge service serves");
    }

    @SuppressWarnings("unchecked")
    private void checkScrapeTargets() {
        var scraped = new LinkedHashSet<String>();
        Object configs = prometheus.get("scrape_configs");
        for (Object job : configs instanceof List<?> list ? list : List.of()) {
            var jobMap = (Map<String, Object>) job;
            Object path = jobMap.get("metrics_path");
            if (path != null && !"/metrics".equals(path)) {
                problems.add("prometheus job " + jobMap.get("job_name") + ": metrics_path is " + path
                        + ", but every service serves /metrics");
            }
            for (Object staticConfig : jobMap.get("static_configs") instanceof List<?> l ? l : List.of()) {
                Object targets = ((Map<String, Object>) staticConfig).get("targets");
                for (Object target : targets instanceof List<?> t ? t : List.of()) {
                    scraped.add(String.valueOf(target));
                    checkTarget(String.valueOf(jobMap.get("job_name")), String.valueOf(target));
                }
            }
        }
        for (JavaService service : javaServices.values()) {
            for (Listener listener : service.listeners()) {
                String target = service.name() + ":" + listener.port();
                if (listener.servesMetrics() && listener.port() != -1 && !scraped.contains(target)) {
                    problems.add(service.name() + ": serves metrics on port " + listener.port()
                            + ", but prometheus.yml does not scrape " + target);
                }
            }
        }
    }

    private void checkTarget(String job, String target) {
        int colon = target.lastIndexOf(':');
        String host = colon < 0 ? target : target.substring(0, colon);
        JavaService service = javaServices.get(host);
        if (service == null && backboneServices.contains(host)) {
            // Its invalid configuration is reported already, and its ports are unknown.
            return;
        }
        if (service == null) {
            problems.add("prometheus job " + job + ": target " + target + " is not a compose service that runs a "
                    + "Backbone main class");
            return;
        }
        boolean metricsPort = service.listeners().stream()
                .anyMatch(l -> l.servesMetrics() && target.equals(host + ":" + l.port()));
        if (!metricsPort) {
            problems.add("prometheus job " + job + ": target " + target + " is not the metrics port of " + host
                    + "; it serves metrics on " + service.listeners().stream().filter(Listener::servesMetrics)
                    .map(l -> String.valueOf(l.port())).collect(Collectors.joining(", ")));
        }
    }
}
