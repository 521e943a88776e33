package dev.backbone.events;

import java.net.IDN;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Canonical host names: the form DNS records are stored and looked up in, and the check of the host names that requests
 * name. Thread-safe.
 */
public final class HostNames {

    /** Maximum length of a host name without the trailing dot: DNS's limit of 255 octets on the wire, in text form. */
    public static final int MAX_NAME_LENGTH = 253;
    /** Description of the names {@link #canonical(String)} accepts, for error messages. */
    public static final String RULE = "a host name of at most " + MAX_NAME_LENGTH + " characters whose dot-separated labels "
            + "have 1 to 63 letters, digits or hyphens and neither start nor end with a hyphen; internationalized "
            + "names are converted to punycode";

    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    /** Valid names seen before, with their canonical form; emptied when it reaches {@link #MAX_REMEMBERED}. */
    private static final Map<String, String> REMEMBERED = new ConcurrentHashMap<>();
    /**
     * The maximum number of names in {@link #REMEMBERED}. Every request's host is canonicalized and a site has few
     * host names, while the IDN conversion and label checks took about a twentieth of the routing thread.
     */
    static final int MAX_REMEMBERED = 10_000;

    private HostNames() {
    }

    /**
     * Returns the canonical form of a host name: without a {@code :port} suffix, without a trailing dot, internationalized
     * labels in punycode ({@link IDN#toASCII(String)}), lower case. {@code Shop.Example.COM.:8080} becomes
     * {@code shop.example.com} and {@code bücher.example} becomes {@code xn--bcher-kva.example}.
     *
     * @throws IllegalArgumentException when the name is empty, not a valid internationalized domain name, or breaks
     *                                  {@link #RULE} after conversion
     */
    public static String canonical(String host) {
        if (host == null) {
            throw new IllegalArgumentException("host name is missing");
        }
        String remembered = REMEMBERED.get(host);
        if (remembered != null) {
            return remembered;
        }
        String canonical = convert(host);
        if (REMEMBERED.size() >= MAX_REMEMBERED) {
            REMEMBERED.clear();
        }
        REMEMBERED.put(host, canonical);
        return canonical;
    }

    private static String convert(String host) {
        String name = stripPort(host.trim());
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        if (name.isEmpty()) {
            throw new IllegalArgumentException("host name '" + host + "' is empty");
        }
        String ascii;
        try {
            ascii = IDN.toASCII(name, IDN.ALLOW_UNASSIGNED);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("host name '" + host + "' is not a valid domain name: " + e.getMessage(), e);
        }
        String canonical = ascii.toLowerCase(Locale.ROOT);
        if (canonical.length() > MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("host name '" + host + "' has " + canonical.length()
                    + " characters in canonical form, more than " + MAX_NAME_LENGTH);
        }
        for (String label : canonical.split("\\.", -1)) {
            if (label.isEmpty()) {
                throw new IllegalArgumentException("host name '" + host + "' has an empty label");
            }
            if (!LABEL.matcher(label).matches()) {
                throw new IllegalArgumentException("host name '" + host + "' has an invalid label '" + label
                        + "': use 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen");
            }
        }
        return canonical;
    }

    private static String stripPort(String host) {
        int colon = host.lastIndexOf(':');
        if (colon < 0 || host.indexOf(':') != colon) {
            // No port, or an IPv6 literal with colons of its own: leave it to IDN to reject.
            return host;
        }
        String port = host.substring(colon + 1);
        if (port.isEmpty() || !port.chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException("host name '" + host + "' has an invalid port '" + port + "'");
        }
        return host.substring(0, colon);
    }
}
