package dev.backbone.launcher;

import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A weighted choice of client regions, parsed from {@code NAME[:COUNTRY]=WEIGHT,...}, such as
 * {@code us-east:US=0.4,eu-west:DE=0.6}. Immutable.
 */
record RegionMix(List<Region> regions, double totalWeight) {

    /** One region with its country code and weight. */
    record Region(String name, String country, double weight) {
    }

    static final String DEFAULT = "us-east:US=0.4,us-west:US=0.2,eu-west:DE=0.3,ap-south:IN=0.1";
    static final String FORMAT = "NAME[:COUNTRY]=WEIGHT,... such as us-east:US=0.4,eu-west:DE=0.6";

    /**
     * Parses a region mix.
     *
     * @throws IllegalArgumentException naming the bad item and the accepted format
     */
    static RegionMix parse(String text) {
        List<Region> regions = new ArrayList<>();
        double total = 0;
        for (String item : text.split(",")) {
            String trimmed = item.trim();
            int equals = trimmed.indexOf('=');
            if (equals < 1) {
                throw new IllegalArgumentException("invalid region item '" + trimmed + "'; accepted: " + FORMAT);
            }
            String[] nameAndCountry = trimmed.substring(0, equals).split(":", 2);
            String name = nameAndCountry[0];
            String country = nameAndCountry.length > 1 ? nameAndCountry[1] : "US";
            if (!name.matches("[a-z0-9-]{1,32}") || !country.matches("[A-Z]{2}")) {
                throw new IllegalArgumentException("invalid region item '" + trimmed
                        + "'; a region is 1 to 32 lower-case letters, digits or '-', a country two capital letters");
            }
            double weight;
            try {
                weight = Double.parseDouble(trimmed.substring(equals + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid weight in region item '" + trimmed + "'; accepted: a number > 0");
            }
            if (!(weight > 0)) {
                throw new IllegalArgumentException("invalid weight in region item '" + trimmed + "'; accepted: a number > 0");
            }
            regions.add(new Region(name, country, weight));
            total += weight;
        }
        return new RegionMix(List.copyOf(regions), total);
    }

    Region pick(RandomGenerator random) {
        double u = random.nextDouble() * totalWeight;
        for (Region region : regions) {
            u -= region.weight();
            if (u < 0) {
                return region;
            }
        }
        return regions.get(regions.size() - 1);
    }

    /** Returns a region for a client that stays the same for that client: a hash of its id picks by weight. */
    Region forClient(String clientId) {
        long hash = clientId.hashCode() & 0xffffffffL;
        double u = (hash / (double) 0x1_0000_0000L) * totalWeight;
        for (Region region : regions) {
            u -= region.weight();
            if (u < 0) {
                return region;
            }
        }
        return regions.get(regions.size() - 1);
    }
}
