package dev.backbone.routing;

import java.net.IDN;
import java.util.Locale;

/** Canonical host names: the form DNS records are stored and looked up in. */
final class HostNames {

    private HostNames() {
    }

    /**
     * Returns the canonical form of a host name: without a {@code :port} suffix, without a trailing dot, internationalized
     * labels in punycode ({@link IDN#toASCII(String)}), lower case. {@code Shop.Example.COM.:8080} becomes
     * {@code shop.example.com} and {@code bücher.example} becomes {@code xn--bcher-kva.example}.
     *
     * @throws IllegalArgumentException when the name is empty or not a valid internationalized domain name
     */
    static String canonical(String host) {
        if (host == null) {
            throw new IllegalArgumentException("host name is missing");
        }
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
        if (ascii.isEmpty() || ascii.contains("..") || ascii.startsWith(".")) {
            throw new IllegalArgumentException("host name '" + host + "' has an empty label");
        }
        return ascii.toLowerCase(Locale.ROOT);
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
