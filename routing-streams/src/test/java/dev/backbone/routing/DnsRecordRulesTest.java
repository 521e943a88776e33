package dev.backbone.routing;

import dev.backbone.events.HostNames;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.backbone.events.DnsRecord;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class DnsRecordRulesTest {

    private static InvalidFieldException invalid(ThrowingCallable call) {
        var e = catchThrowableOfType(InvalidFieldException.class, call);
        assertThat(e).as("an InvalidFieldException").isNotNull();
        return e;
    }

    private static DnsRecord addressRecord(String name, String scope, List<String> addresses, Long ttl) {
        return DnsRecordRules.canonical(name, scope, "A", addresses, null, ttl, 1);
    }

    @Test
    void canonicalRecordHasCanonicalFields() {
        var record = DnsRecordRules.canonical("Bücher.Example.", " Country:de ", "a", List.of("lb-1", "LB-2"), null, 60L, 9);

        assertThat(record.name()).isEqualTo("xn--bcher-kva.example");
        assertThat(record.scope()).isEqualTo("country:DE");
        assertThat(record.type()).isEqualTo(DnsRecord.Type.A);
        assertThat(record.addresses()).containsExactly("lb-1", "LB-2");
        assertThat(record.target()).isNull();
        assertThat(record.ttlSeconds()).isEqualTo(60);
        assertThat(record.version()).isEqualTo(9);
        assertThat(record.key()).isEqualTo("country:de/xn--bcher-kva.example");
    }

    @Test
    void scopesCanonicalized() {
        assertThat(DnsRecordRules.canonicalScope("GLOBAL")).isEqualTo("global");
        assertThat(DnsRecordRules.canonicalScope("country:us")).isEqualTo("country:US");
        assertThat(DnsRecordRules.canonicalScope("region:EU-West")).isEqualTo("region:eu-west");
        assertThat(DnsRecordRules.canonicalScope("region:ap-1")).isEqualTo("region:ap-1");
    }

    @Test
    void invalidScopesNamedWithAcceptedValues() {
        for (String scope : Arrays.asList(null, "", "planet:mars", "country:DEU", "country:D1", "region:", "region:eu west",
                "region:eu_west", "region:" + "a".repeat(64), "global:x")) {
            var e = invalid(() -> DnsRecordRules.canonicalScope(scope));
            assertThat(e.field()).as(scope).isEqualTo("scope");
            assertThat(e.value()).as(scope).isEqualTo(scope);
            assertThat(e.accepted()).as(scope).contains("global").contains("country:XX").contains("region:NAME");
            assertThat(e.getMessage()).as(scope).startsWith("scope").contains("accepted:");
        }
    }

    @Test
    void invalidNameNamesField() {
        var e = invalid(() -> addressRecord("shop..example", "global", List.of("lb-1"), 60L));

        assertThat(e.field()).isEqualTo("name");
        assertThat(e.value()).isEqualTo("shop..example");
        assertThat(e.accepted()).isEqualTo(HostNames.RULE);
        assertThat(e.getMessage()).contains("name 'shop..example' is not a valid host name");
        assertThat(invalid(() -> addressRecord(null, "global", List.of("lb-1"), 60L)).getMessage())
                .startsWith("name is missing");
    }

    @Test
    void invalidTypeNamesAcceptedTypes() {
        var e = invalid(() -> DnsRecordRules.canonical("shop.example", "global", "MX", List.of("lb-1"), null, 60L, 1));

        assertThat(e.field()).isEqualTo("type");
        assertThat(e.value()).isEqualTo("MX");
        assertThat(e.accepted()).contains("A").contains("CNAME");
    }

    @Test
    void addressRulesEnforced() {
        assertThat(invalid(() -> addressRecord("shop.example", "global", List.of(), 60L)).getMessage())
                .startsWith("addresses '[]' is empty");
        assertThat(invalid(() -> addressRecord("shop.example", "global", null, 60L)).field()).isEqualTo("addresses");
        assertThat(invalid(() -> addressRecord("shop.example", "global", List.of("lb-1", ""), 60L)).field())
                .isEqualTo("addresses[1]");
        assertThat(invalid(() -> addressRecord("shop.example", "global", List.of("lb 1"), 60L)).value()).isEqualTo("lb 1");
        assertThat(invalid(() -> addressRecord("shop.example", "global", List.of("lb-1", "lb-2", "lb-1"), 60L)).field())
                .isEqualTo("addresses[2]");
        assertThat(invalid(() -> addressRecord("shop.example", "global", List.of("x".repeat(256)), 60L)).field())
                .isEqualTo("addresses[0]");
    }

    @Test
    void thousandAddressesAcceptedNotMore() {
        var addresses = new ArrayList<String>();
        for (int i = 0; i < DnsRecordRules.MAX_ADDRESSES; i++) {
            addresses.add("lb-" + i);
        }
        assertThat(addressRecord("shop.example", "global", addresses, 60L).addresses()).hasSize(1000);

        addresses.add("lb-1000");
        var e = invalid(() -> addressRecord("shop.example", "global", addresses, 60L));
        assertThat(e.field()).isEqualTo("addresses");
        assertThat(e.value()).isEqualTo("1001 addresses");
        assertThat(e.accepted()).contains("1 to 1000");
    }

    @Test
    void aliasRulesEnforced() {
        var alias = DnsRecordRules.canonical("WWW.example.", "global", "CNAME", null, "Shop.Example.", 60L, 1);
        assertThat(alias.name()).isEqualTo("www.example");
        assertThat(alias.target()).isEqualTo("shop.example");
        assertThat(alias.addresses()).isEmpty();

        assertThat(invalid(() -> DnsRecordRules.canonical("www.example", "global", "CNAME", null, null, 60L, 1)).field())
                .isEqualTo("target");
        assertThat(invalid(() -> DnsRecordRules.canonical("www.example", "global", "CNAME", null, "bad..target", 60L, 1))
                .value()).isEqualTo("bad..target");
        assertThat(invalid(() -> DnsRecordRules.canonical("www.example", "global", "CNAME", List.of("lb-1"), "shop.example",
                60L, 1)).field()).isEqualTo("addresses");
        assertThat(invalid(() -> DnsRecordRules.canonical("www.example", "global", "A", List.of("lb-1"), "shop.example",
                60L, 1)).field()).isEqualTo("target");
    }

    @Test
    void selfAliasIsValidRecord() {
        // A loop is found when resolving, like a loop of two names, which no check of one record can see.
        var alias = DnsRecordRules.canonical("loop.example", "global", "CNAME", null, "LOOP.example", 60L, 1);

        assertThat(alias.target()).isEqualTo(alias.name());
    }

    @Test
    void ttlRangeEnforced() {
        assertThat(addressRecord("shop.example", "global", List.of("lb-1"), 0L).ttlSeconds()).isZero();
        assertThat(addressRecord("shop.example", "global", List.of("lb-1"), 604_800L).ttlSeconds()).isEqualTo(604_800);

        for (Long ttl : Arrays.asList(-1L, 604_801L, null)) {
            var e = invalid(() -> addressRecord("shop.example", "global", List.of("lb-1"), ttl));
            assertThat(e.field()).as(String.valueOf(ttl)).isEqualTo("ttlSeconds");
            assertThat(e.value()).as(String.valueOf(ttl)).isEqualTo(ttl == null ? null : ttl.toString());
            assertThat(e.accepted()).as(String.valueOf(ttl)).contains("0").contains("604800");
        }
    }

    @Test
    void longValueShortenedInMessage() {
        var e = invalid(() -> addressRecord("shop.example", "global", List.of("x".repeat(5000)), 60L));

        assertThat(e.value()).hasSize(103);
        assertThat(e.getMessage()).hasSizeLessThan(500);
    }
}
