package dev.backbone.launcher;

import static dev.backbone.launcher.MeterReadings.GROUP_APP;
import static dev.backbone.launcher.MeterReadings.GROUP_CACHE_HITS;
import static dev.backbone.launcher.MeterReadings.GROUP_CACHE_LOOKUPS;
import static dev.backbone.launcher.MeterReadings.GROUP_DNS;
import static dev.backbone.launcher.MeterReadings.GROUP_EDGE_HITS;
import static dev.backbone.launcher.MeterReadings.GROUP_EDGE_LOOKUPS;
import static dev.backbone.launcher.MeterReadings.GROUP_REQUESTS;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;

/**
 * Builds the JSON document of {@code GET /api/dashboard} from meter readings. Every field is always present. A value
 * is null, or a map is empty, when its meters do not exist or recorded nothing in the window. The page then shows
 * "no data yet" for that panel.
 *
 * <pre>
 * timestampMs, intervalSeconds, lagWindowSeconds
 * requests        {perSecond, byStatus: {2xx: per second, ...}}         backbone.ingest.requests
 * latencyMs       {p50, p95, p99} over the last interval                backbone.ingest.requests histogram
 * dnsLookups      {cache: per second, region: ..., nxdomain: ...}      backbone.routing.dns.lookups
 * appServers      [{id, requestsPerSecond, ready, loadBalancerState}]  backbone.app.requests
 * cacheHitRatio   {pinned, l1, l2: 0 to 1}                             backbone.cache.gets
 * evictionLagMs   {p50, p99} over lagWindowSeconds                     backbone.cache.eviction.lag histogram
 * purgeLagMs      {published: {p50, p99}, applied: {region: {p50, p99}}}  backbone.invalidator.purge.lag, backbone.edge.purge.lag
 * edgeHitRatio    {region: 0 to 1}                                     backbone.edge.requests
 * </pre>
 */
final class DashboardSnapshot {

    private DashboardSnapshot() {
    }

    /**
     * @param previous    the reading one interval before {@code latest}, or null for the first reading
     * @param windowStart the oldest reading within the lag window, or null for the first reading
     */
    static ObjectNode of(MeterReadings previous, MeterReadings windowStart, MeterReadings latest,
                         List<DashboardSampler.ServerHealth> servers, ObjectMapper mapper) {
        ObjectNode root = mapper.createObjectNode();
        root.put("timestampMs", latest.epochMs());
        Double seconds = previous == null ? null : (latest.nanoTime() - previous.nanoTime()) / 1e9;
        Double windowSeconds = windowStart == null ? null : (latest.nanoTime() - windowStart.nanoTime()) / 1e9;
        root.put("intervalSeconds", seconds);
        root.put("lagWindowSeconds", windowSeconds);

        ObjectNode requests = root.putObject("requests");
        Map<String, Double> statusRates = rates(previous, latest, GROUP_REQUESTS, seconds);
        requests.put("perSecond", previous == null ? null : statusRates.values().stream().mapToDouble(Double::doubleValue).sum());
        putAll(requests.putObject("byStatus"), statusRates);

        ObjectNode latency = root.putObject("latencyMs");
        MeterReadings.Buckets latencyWindow = window(previous, latest, MeterReadings.HISTOGRAM_LATENCY);
        latency.put("p50", quantile(latencyWindow, 0.50));
        latency.put("p95", quantile(latencyWindow, 0.95));
        latency.put("p99", quantile(latencyWindow, 0.99));

        putAll(root.putObject("dnsLookups"), rates(previous, latest, GROUP_DNS, seconds));
        putServers(root.putArray("appServers"), servers, rates(previous, latest, GROUP_APP, seconds));
        putAll(root.putObject("cacheHitRatio"), ratios(previous, latest, GROUP_CACHE_HITS, GROUP_CACHE_LOOKUPS));

        ObjectNode evictionLag = root.putObject("evictionLagMs");
        MeterReadings.Buckets evictionWindow = window(windowStart, latest, MeterReadings.HISTOGRAM_EVICTION_LAG);
        evictionLag.put("p50", quantile(evictionWindow, 0.50));
        evictionLag.put("p99", quantile(evictionWindow, 0.99));

        putPurgeLag(root.putObject("purgeLagMs"), latest);
        putAll(root.putObject("edgeHitRatio"), ratios(previous, latest, GROUP_EDGE_HITS, GROUP_EDGE_LOOKUPS));
        return root;
    }

    /**
     * Returns per-second rates of each label of a group between two readings. A label that is missing from the
     * earlier reading is left out, because its whole count since start would show as one interval's spike.
     */
    static Map<String, Double> rates(MeterReadings earlier, MeterReadings later, String group, Double seconds) {
        var rates = new java.util.TreeMap<String, Double>();
        if (earlier == null || seconds == null || seconds <= 0) {
            return rates;
        }
        later.group(group).forEach((label, count) -> {
            Double before = earlier.counter(group, label);
            if (before != null && count >= before) {
                rates.put(label, (count - before) / seconds);
            }
        });
        return rates;
    }

    /** Returns {@code hits / lookups} per label between two readings. A label without lookups in the window is left out. */
    static Map<String, Double> ratios(MeterReadings earlier, MeterReadings later, String hitsGroup, String lookupsGroup) {
        var ratios = new java.util.TreeMap<String, Double>();
        if (earlier == null) {
            return ratios;
        }
        later.group(lookupsGroup).forEach((label, lookups) -> {
            Double lookupsBefore = earlier.counter(lookupsGroup, label);
            Double hits = later.counter(hitsGroup, label);
            Double hitsBefore = earlier.counter(hitsGroup, label);
            if (lookupsBefore == null || hits == null || hitsBefore == null) {
                return;
            }
            double lookupsInWindow = lookups - lookupsBefore;
            if (lookupsInWindow > 0) {
                ratios.put(label, Math.max(0, Math.min(1, (hits - hitsBefore) / lookupsInWindow)));
            }
        });
        return ratios;
    }

    private static MeterReadings.Buckets window(MeterReadings earlier, MeterReadings later, String histogram) {
        if (earlier == null) {
            return null;
        }
        MeterReadings.Buckets end = later.histograms().get(histogram);
        MeterReadings.Buckets start = earlier.histograms().get(histogram);
        if (end == null || start == null) {
            return null;
        }
        return end.minus(start);
    }

    private static Double quantile(MeterReadings.Buckets buckets, double q) {
        return buckets == null ? null : buckets.quantile(q);
    }

    private static void putServers(ArrayNode array, List<DashboardSampler.ServerHealth> servers, Map<String, Double> rates) {
        for (DashboardSampler.ServerHealth server : servers) {
            ObjectNode node = array.addObject();
            node.put("id", server.id());
            node.put("requestsPerSecond", rates.get(server.id()));
            node.put("ready", server.ready());
            node.put("loadBalancerState", server.loadBalancerState());
        }
    }

    private static void putPurgeLag(ObjectNode purgeLag, MeterReadings latest) {
        ObjectNode published = purgeLag.putObject("published");
        Map<String, Double> publishedPercentiles = latest.percentileGroup(MeterReadings.PERCENTILES_PURGE_PUBLISHED);
        published.put("p50", publishedPercentiles.get("p50"));
        published.put("p99", publishedPercentiles.get("p99"));

        ObjectNode applied = purgeLag.putObject("applied");
        latest.percentileGroup(MeterReadings.PERCENTILES_PURGE_APPLIED).forEach((label, value) -> {
            int space = label.lastIndexOf(' ');
            String region = label.substring(0, space);
            String percentile = label.substring(space + 1);
            if (percentile.equals("p50") || percentile.equals("p99")) {
                ObjectNode regionNode = applied.has(region) ? (ObjectNode) applied.get(region) : applied.putObject(region);
                regionNode.put(percentile, value);
            }
        });
    }

    private static void putAll(ObjectNode node, Map<String, Double> values) {
        values.forEach(node::put);
    }
}
