package dev.backbone.ingest;

import java.util.regex.Pattern;

/** Rules for the client-identity headers, shared by the handler and the configuration. */
final class RequestValidation {

    static final String CLIENT_ID_RULE = "1 to 128 characters of letters, digits, '.', '_', ':', '@' or '-'";
    static final String REGION_RULE = "1 to 32 lower-case letters, digits or '-', such as eu-west";
    static final String COUNTRY_RULE = "a two-letter ISO 3166 country code, such as DE";

    private static final Pattern CLIENT_ID = Pattern.compile("[A-Za-z0-9._:@-]{1,128}");
    private static final Pattern REGION = Pattern.compile("[a-z0-9-]{1,32}");
    private static final Pattern COUNTRY = Pattern.compile("[A-Z]{2}");

    private RequestValidation() {
    }

    static boolean isValidClientId(String value) {
        return CLIENT_ID.matcher(value).matches();
    }

    static boolean isValidRegion(String value) {
        return REGION.matcher(value).matches();
    }

    static boolean isValidCountry(String value) {
        return COUNTRY.matcher(value).matches();
    }
}
