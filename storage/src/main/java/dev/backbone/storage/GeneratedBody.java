package dev.backbone.storage;

/**
 * Generates the body of a static asset stored with {@code generated_bytes} instead of bytes: ASCII filler wrapped in
 * a comment or value that is valid in the content type, exactly the requested length when that is at least the
 * length of the wrapper, and always the same for the same path. Stateless.
 */
final class GeneratedBody {

    private static final int LINE_LENGTH = 80;

    private GeneratedBody() {
    }

    static String generate(String path, String contentType, int bytes) {
        String mediaType = contentType.contains(";") ? contentType.substring(0, contentType.indexOf(';')) : contentType;
        String open;
        String close;
        switch (mediaType) {
            case "text/css", "text/javascript", "application/javascript" -> {
                open = "/* generated asset " + path + "\n";
                close = "\n*/\n";
            }
            case "text/html", "text/xml", "application/xml", "image/svg+xml" -> {
                open = "<!-- generated asset " + path + "\n";
                close = "\n-->\n";
            }
            case "application/json" -> {
                open = "{\"generatedAsset\":\"" + path + "\",\"filler\":\"";
                close = "\"}\n";
            }
            default -> {
                open = "generated asset " + path + "\n";
                close = "\n";
            }
        }
        int fillerLength = Math.max(0, bytes - open.length() - close.length());
        var body = new StringBuilder(open.length() + fillerLength + close.length()).append(open);
        for (int i = 0; i < fillerLength; i++) {
            // JSON keeps the filler on one line because a string value cannot hold a raw line break.
            boolean lineEnd = !mediaType.equals("application/json") && (i + 1) % LINE_LENGTH == 0;
            body.append(lineEnd ? '\n' : (char) ('a' + (i % 26)));
        }
        return body.append(close).toString();
    }
}
