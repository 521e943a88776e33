package dev.backbone.appserver;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * A snapshot of an app server's counters since it started. Cache counters add up products, accounts and static
 * assets.
 *
 * @param cacheHits             reads served by a cache tier (pinned, L1 or L2), negative entries included
 * @param cacheMisses           reads served by PostgreSQL
 * @param refusedFills          L1 fills rejected because an invalidation was newer
 * @param requestsByStatusClass requests handled per response status class, keys {@code 1xx} to {@code 5xx} in order
 * @param expiredRequests       requests skipped because the client deadline had passed
 * @param deadLetters           records of either input topic sent to {@code backbone.dead-letters}
 * @param assignedPartitions    partitions of {@code backbone.routed-requests} assigned now, ascending
 * @param evictionLagMs         a copy of the commit-to-eviction lag histogram in milliseconds; the caller may change it
 * @param pinnedHits            reads served by the pinned cache of hot entities
 * @param l1Hits                reads served by L1
 * @param l2Hits                reads served by L2 (Redis); 0 without Redis
 * @param l2RefusedFills        L2 fills rejected by a tombstone or a newer entry
 * @param l2Errors              Redis commands that failed or timed out; each read fell back to PostgreSQL
 * @param authFailures          requests rejected for their token, by reason: {@code missing}, {@code malformed},
 *                              {@code bad_signature}, {@code expired}, and {@code edge_token} for a wrong edge token
 */
public record AppServerStats(
        long cacheHits,
        long cacheMisses,
        long refusedFills,
        Map<String, Long> requestsByStatusClass,
        long expiredRequests,
        long deadLetters,
        List<Integer> assignedPartitions,
        Histogram evictionLagMs,
        long pinnedHits,
        long l1Hits,
        long l2Hits,
        long l2RefusedFills,
        long l2Errors,
        Map<String, Long> authFailures) {

    public AppServerStats {
        requestsByStatusClass = Collections.unmodifiableMap(new LinkedHashMap<>(requestsByStatusClass));
        assignedPartitions = List.copyOf(assignedPartitions);
        authFailures = Collections.unmodifiableMap(new LinkedHashMap<>(authFailures));
    }

    /** Returns the number of requests handled with one status class such as {@code 2xx}, or 0 for an unknown class. */
    public long requests(String statusClass) {
        return requestsByStatusClass.getOrDefault(statusClass, 0L);
    }
}
