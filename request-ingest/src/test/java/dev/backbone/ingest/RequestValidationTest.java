package dev.backbone.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The hand-written checks agree with the regular expressions that state the rules. */
class RequestValidationTest {

    private static final List<String> SAMPLES = samples();

    @Test
    void clientIdCheckMatchesItsRule() {
        Pattern rule = Pattern.compile("[A-Za-z0-9._:@-]{1,128}");
        for (String sample : SAMPLES) {
            assertThat(RequestValidation.isValidClientId(sample)).as(sample).isEqualTo(rule.matcher(sample).matches());
        }
    }

    @Test
    void regionCheckMatchesItsRule() {
        Pattern rule = Pattern.compile("[a-z0-9-]{1,32}");
        for (String sample : SAMPLES) {
            assertThat(RequestValidation.isValidRegion(sample)).as(sample).isEqualTo(rule.matcher(sample).matches());
        }
    }

    @Test
    void countryCheckMatchesItsRule() {
        Pattern rule = Pattern.compile("[A-Z]{2}");
        for (String sample : SAMPLES) {
            assertThat(RequestValidation.isValidCountry(sample)).as(sample).isEqualTo(rule.matcher(sample).matches());
        }
    }

    private static List<String> samples() {
        var samples = new ArrayList<>(List.of("", "a", "DE", "de", "D", "DEU", "eu-west", "EU-west", "eu west", "client-1",
                "alice@example.com", "ip-127.0.0.1", "a:b_c.d", "é", "a\u0000", "a/b", "x".repeat(32), "x".repeat(33),
                "x".repeat(128), "x".repeat(129), "Z9", "9Z", "ü-x", "a+b", "[]", "`", "{", "@", "-", "\u0130"));
        // Every printable ASCII character and a few others alone, so each branch of the loops meets each class.
        for (char c = 0; c < 0x180; c++) {
            samples.add(String.valueOf(c));
            samples.add("A" + c);
        }
        return samples;
    }
}
