package dev.backbone.storage;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One row of the {@code static_assets} table, with its body as text.
 *
 * <p>Only text content types are accepted ({@link #CONTENT_TYPES_ACCEPTED}), because a response body travels as UTF-8
 * text inside a {@code ClientResponse} event; a binary asset would need an encoding that the front door decodes.
 *
 * @param path          the path below {@code /static}, such as {@code /css/site.css}; see {@link #PATH_ACCEPTED}
 * @param contentType   the media type, one of {@link #CONTENT_TYPES_ACCEPTED}
 * @param body          the body: the stored bytes as UTF-8 text, or the generated text for a generated asset
 * @param surrogateKeys CDN surrogate keys besides {@code asset:<path>}, such as {@code product:42}
 * @param requiresAuth  whether a client needs a valid bearer token to be redirected to the asset
 * @param version       the row version: 1 on insert, one more on every update
 * @param updatedAt     the start time of the transaction that last wrote the row
 * @param contentSha256 the SHA-256 of the UTF-8 body, lower-case hex
 */
public record StaticAsset(
        String path,
        String contentType,
        String body,
        List<String> surrogateKeys,
        boolean requiresAuth,
        long version,
        Instant updatedAt,
        String contentSha256) {

    /** Maximum length of a path, in characters. */
    public static final int MAX_PATH_LENGTH = 512;
    public static final String PATH_ACCEPTED = "a path of '/'-separated segments of letters, digits, '.', '_', '~' or '-',"
            + " without '.' or '..' segments, at most " + MAX_PATH_LENGTH + " characters, such as /css/site.css";
    public static final String CONTENT_TYPES_ACCEPTED = "text/css, text/csv, text/html, text/javascript, text/plain,"
            + " text/xml, application/javascript, application/json, application/xml or image/svg+xml,"
            + " optionally with '; charset=utf-8'";

    private static final Pattern PATH = Pattern.compile("(/[A-Za-z0-9._~-]+)+");
    private static final Pattern DOT_SEGMENT = Pattern.compile("/\\.\\.?(/|$)");
    private static final Pattern TEXT_CONTENT_TYPE = Pattern.compile(
            "(text/(css|csv|html|javascript|plain|xml)|application/(javascript|json|xml)|image/svg\\+xml)(; ?charset=utf-8)?");

    public StaticAsset {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(contentType, "contentType");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(updatedAt, "updatedAt");
        Objects.requireNonNull(contentSha256, "contentSha256");
        surrogateKeys = List.copyOf(surrogateKeys);
    }

    /** Returns the cache key and surrogate key of this asset, such as {@code asset:/css/site.css}. */
    public String cacheKey() {
        return cacheKey(path);
    }

    /** Returns the cache key of an asset path, such as {@code asset:/css/site.css}. */
    public static String cacheKey(String path) {
        return "asset:" + path;
    }

    /** Returns whether {@code path} is a safe asset path as described by {@link #PATH_ACCEPTED}. */
    public static boolean isValidPath(String path) {
        return path != null && path.length() <= MAX_PATH_LENGTH && PATH.matcher(path).matches()
                && !DOT_SEGMENT.matcher(path).find();
    }

    /** Returns whether {@code contentType} is one of {@link #CONTENT_TYPES_ACCEPTED}, matched exactly. */
    public static boolean isTextContentType(String contentType) {
        return contentType != null && TEXT_CONTENT_TYPE.matcher(contentType).matches();
    }

    /** Returns the SHA-256 of the UTF-8 encoding of {@code body}, lower-case hex. */
    public static String sha256(String body) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(body.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime provides SHA-256", e);
        }
    }
}
