package dev.backbone.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The files of the dashboard page, read from the class path once at start: the page's own HTML, script and style
 * sheet, and uPlot from its WebJar. Only these names are served, so no request path reaches the class path. Immutable.
 */
final class StaticAssets {

    /** A file to serve. */
    record Asset(String contentType, byte[] body) {
    }

    static final String PAGE = "dashboard.html";
    private static final String OWN_FILES = "dev/backbone/launcher/dashboard/";
    private static final String UPLOT_POM_PROPERTIES = "META-INF/maven/org.webjars.npm/uplot/pom.properties";
    private static final String JAVASCRIPT = "text/javascript; charset=utf-8";
    private static final String CSS = "text/css; charset=utf-8";

    private final Map<String, Asset> assets;

    private StaticAssets(Map<String, Asset> assets) {
        this.assets = assets;
    }

    /**
     * Reads every asset.
     *
     * @throws IllegalStateException when a file is missing from the class path, such as the uPlot WebJar in a jar
     *                               built without it
     */
    static StaticAssets load() {
        ClassLoader loader = StaticAssets.class.getClassLoader();
        String uplot = "META-INF/resources/webjars/uplot/" + uplotVersion(loader) + "/dist/";
        var assets = new TreeMap<String, Asset>();
        assets.put(PAGE, new Asset("text/html; charset=utf-8", read(loader, OWN_FILES + PAGE)));
        assets.put("dashboard.js", new Asset(JAVASCRIPT, read(loader, OWN_FILES + "dashboard.js")));
        assets.put("dashboard.css", new Asset(CSS, read(loader, OWN_FILES + "dashboard.css")));
        assets.put("uPlot.iife.min.js", new Asset(JAVASCRIPT, read(loader, uplot + "uPlot.iife.min.js")));
        assets.put("uPlot.min.css", new Asset(CSS, read(loader, uplot + "uPlot.min.css")));
        return new StaticAssets(Map.copyOf(assets));
    }

    /** Returns the asset with this file name, or null. */
    Asset get(String name) {
        return assets.get(name);
    }

    /** Returns the names served under {@code /assets/}, sorted; the page itself is served at {@code /dashboard}. */
    java.util.List<String> names() {
        return assets.keySet().stream().filter(name -> !name.equals(PAGE)).sorted().toList();
    }

    /** Returns the uPlot version from the WebJar's Maven metadata, so the version is written only in the POM. */
    private static String uplotVersion(ClassLoader loader) {
        var properties = new Properties();
        try (InputStream in = loader.getResourceAsStream(UPLOT_POM_PROPERTIES)) {
            if (in == null) {
                throw new IllegalStateException("the uPlot WebJar (org.webjars.npm:uplot) is missing from the class path: "
                        + UPLOT_POM_PROPERTIES + " not found");
            }
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + UPLOT_POM_PROPERTIES + ": " + e.getMessage(), e);
        }
        return properties.getProperty("version");
    }

    private static byte[] read(ClassLoader loader, String resource) {
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("dashboard asset " + resource + " is missing from the class path");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read dashboard asset " + resource + ": " + e.getMessage(), e);
        }
    }
}
