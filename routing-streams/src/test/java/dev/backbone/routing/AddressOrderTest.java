package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AddressOrderTest {

    private static final List<String> FIVE_ADDRESSES = List.of("lb-1", "lb-2", "lb-3", "lb-4", "lb-5");
    private static final int CLIENTS = 50_000;
    /** Upper 0.001 quantile of the chi-square distribution with 4 degrees of freedom: scipy.stats.chi2.ppf(0.999, 4). */
    private static final double CRITICAL_4_DF = 18.4668;
    /** Upper 0.001 quantile with 119 degrees of freedom: scipy.stats.chi2.ppf(0.999, 119). */
    private static final double CRITICAL_119_DF = 172.4177;

    @Test
    void orderIsStableAndDependsOnVersion() {
        var order = AddressOrder.forClient(FIVE_ADDRESSES, "client-1", "shop.example.com", 1);

        assertThat(AddressOrder.forClient(FIVE_ADDRESSES, "client-1", "shop.example.com", 1)).isEqualTo(order);
        assertThat(order).containsExactlyInAnyOrderElementsOf(FIVE_ADDRESSES);
        boolean changed = false;
        for (long version = 2; version < 10 && !changed; version++) {
            changed = !AddressOrder.forClient(FIVE_ADDRESSES, "client-1", "shop.example.com", version).equals(order);
        }
        assertThat(changed).as("a new record version reshuffles").isTrue();
    }

    @Test
    void firstAddressUniformByChiSquare() {
        int[] firsts = new int[FIVE_ADDRESSES.size()];
        for (int i = 0; i < CLIENTS; i++) {
            String first = AddressOrder.forClient(FIVE_ADDRESSES, "client-" + i, "shop.example.com", 7).get(0);
            firsts[FIVE_ADDRESSES.indexOf(first)]++;
        }

        double statistic = chiSquare(firsts, CLIENTS);
        int degreesOfFreedom = firsts.length - 1;
        System.out.printf("AddressOrder first position over %d clients and %d addresses: counts %s, chi-square %.3f, "
                        + "%d degrees of freedom, critical value at p = 0.001 %.4f%n", CLIENTS, FIVE_ADDRESSES.size(),
                Arrays.toString(firsts), statistic, degreesOfFreedom, CRITICAL_4_DF);
        assertThat(degreesOfFreedom).isEqualTo(4);
        assertThat(statistic).isLessThan(CRITICAL_4_DF);
    }

    @Test
    void wholeOrderUniformByChiSquare() {
        // All 120 orders of five addresses should be equally likely, not only the first position.
        Map<List<String>, Integer> counts = new HashMap<>();
        for (int i = 0; i < CLIENTS; i++) {
            counts.merge(AddressOrder.forClient(FIVE_ADDRESSES, "client-" + i, "shop.example.com", 7), 1, Integer::sum);
        }
        int[] observed = new int[120];
        var values = new ArrayList<>(counts.values());
        for (int i = 0; i < values.size(); i++) {
            observed[i] = values.get(i);
        }

        double statistic = chiSquare(observed, CLIENTS);
        System.out.printf("AddressOrder whole order over %d clients: %d of 120 orders seen, chi-square %.3f, "
                + "119 degrees of freedom, critical value at p = 0.001 %.4f%n", CLIENTS, counts.size(), statistic, CRITICAL_119_DF);
        assertThat(counts).hasSize(120);
        assertThat(statistic).isLessThan(CRITICAL_119_DF);
    }

    @Test
    void fiveHundredAddressesArePermuted() {
        var addresses = new ArrayList<String>();
        for (int i = 0; i < 500; i++) {
            addresses.add("lb-" + i);
        }

        var order = AddressOrder.forClient(addresses, "client-1", "big.example.com", 1);

        assertThat(order).hasSize(500);
        assertThat(order).doesNotHaveDuplicates();
        assertThat(order).containsExactlyInAnyOrderElementsOf(addresses);
        assertThat(order).isNotEqualTo(addresses);
    }

    @Test
    void clientsDifferInOrder() {
        var first = AddressOrder.forClient(FIVE_ADDRESSES, "client-a", "shop.example.com", 1);
        boolean differs = false;
        for (int i = 0; i < 20 && !differs; i++) {
            differs = !AddressOrder.forClient(FIVE_ADDRESSES, "client-" + i, "shop.example.com", 1).equals(first);
        }
        assertThat(differs).isTrue();
    }

    /** Pearson's chi-square statistic of counts against a uniform expectation over their cells. */
    private static double chiSquare(int[] observed, int total) {
        double expected = (double) total / observed.length;
        double statistic = 0;
        for (int count : observed) {
            statistic += (count - expected) * (count - expected) / expected;
        }
        return statistic;
    }
}
