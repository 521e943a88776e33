package dev.backbone.appserver;

import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * A snapshot of an app server's counters since it started.
 *
 * @param cacheHits             product cache lookups that found a value
 * @param cacheMisses           product cache lookups that found none
 * @param refusedFills          cache fills rejected because an invalidation was newer
 * @param requestsByStatusClass requests handled per response status class, keys {@code 1xx} to {@code 5xx} in order
 * @param expiredRequests       requests skipped because the client deadline had passed
 * @param deadLetters           records of either input topic sent to {@code backbone.dead-letters}
 * @param assignedPartitions    partitions of {@code backbone.routed-requests} assigned now, ascending
 * @param evictionLagMs         a copy of the commit-to-eviction lag histogram in milliseconds; the caller may change it
 */
public record AppServerStats(
        long cacheHits,
        long cacheMisses,
        long refusedFills,
        Map<String, Long> requestsByStatusClass,
        long expiredRequests,
        long deadLetters,
        List<Integer> assignedPartitions,
        Histogram evictionLagMs) {

    public AppServerStats {
        requestsByStatusClass = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(requestsByStatusClass));
        assignedPartitions = List.copyOf(assignedPartitions);
    }

    /** Returns the number of requests handled with one status class such as {@code 2xx}, or 0 for an unknown class. */
    public long requests(String statusClass) {
        return requestsByStatusClass.getOrDefault(statusClass, 0L);
    }
}
