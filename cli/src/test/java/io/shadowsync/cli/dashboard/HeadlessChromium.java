package io.shadowsync.cli.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A headless Chromium driven over the DevTools protocol (JSON over the JDK's WebSocket client): navigate a page,
 * evaluate JavaScript in it, capture a screenshot. {@link #close} kills the browser and everything it started, always.
 */
final class HeadlessChromium implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> CANDIDATES = List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
            "/usr/bin/google-chrome-stable", "/snap/bin/chromium");

    private final Process process;
    private final Path profile;
    private final Path log;
    private WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();

    /** The browser to use: $SHADOWSYNC_CHROMIUM, else the first of the usual paths that exists; null when there is none. */
    static Path find() {
        String env = System.getenv("SHADOWSYNC_CHROMIUM");
        if (env != null && !env.isBlank()) return Path.of(env);
        for (String c : CANDIDATES) if (Files.isExecutable(Path.of(c))) return Path.of(c);
        return null;
    }

    /** Starts binary headless with a fresh profile in dir, a window of width x height, and connects to its first page. */
    HeadlessChromium(Path binary, Path dir, int width, int height) throws Exception {
        profile = Files.createDirectories(dir.resolve("chromium-profile"));
        log = dir.resolve("chromium.log");
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-breakpad", "--disable-crash-reporter",
                "--hide-scrollbars", "--window-size=" + width + "," + height, "--remote-debugging-port=0", "--user-data-dir=" + profile, "about:blank"));
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            connect(binary);
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    private void connect(Path binary) throws Exception {
        Path portFile = profile.resolve("DevToolsActivePort");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!(Files.exists(portFile) && Files.readAllLines(portFile).size() >= 2)) {
            if (!process.isAlive()) throw new IOException(binary + " exited with " + process.exitValue() + " before it listened: " + logTail());
            if (System.nanoTime() > deadline) throw new IOException(binary + " did not open its DevTools port within 60 s: " + logTail());
            Thread.sleep(100);
        }
        int port = Integer.parseInt(Files.readAllLines(portFile).get(0).strip());
        HttpClient http = HttpClient.newHttpClient();
        String page = null;
        while (page == null) {
            String list = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            for (JsonNode t : JSON.readTree(list)) if (t.path("type").asText().equals("page")) page = t.path("webSocketDebuggerUrl").asText();
            if (page == null) {
                if (System.nanoTime() > deadline) throw new IOException("the browser shows no page: " + list);
                Thread.sleep(100);
            }
        }
        socket = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30)).buildAsync(URI.create(page), new Listener()).get(30, TimeUnit.SECONDS);
    }

    /** Replies, matched to their calls by id; events are ignored. */
    private final class Listener implements WebSocket.Listener {
        private final StringBuilder message = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            message.append(data);
            if (last) {
                try {
                    JsonNode m = JSON.readTree(message.toString());
                    CompletableFuture<JsonNode> f = m.has("id") ? pending.remove(m.get("id").asInt()) : null;
                    if (f != null) {
                        if (m.has("error")) f.completeExceptionally(new IOException("DevTools: " + m.get("error")));
                        else f.complete(m.path("result"));
                    }
                } catch (IOException e) {
                    pending.values().forEach(f -> f.completeExceptionally(e));
                }
                message.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            pending.values().forEach(f -> f.completeExceptionally(error));
        }
    }

    /** Calls a DevTools method and waits for its result. */
    JsonNode call(String method, ObjectNode params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> f = new CompletableFuture<>();
        pending.put(id, f);
        ObjectNode m = JSON.createObjectNode().put("id", id).put("method", method);
        m.set("params", params == null ? JSON.createObjectNode() : params);
        socket.sendText(JSON.writeValueAsString(m), true).get(30, TimeUnit.SECONDS);
        return f.get(60, TimeUnit.SECONDS);
    }

    void navigate(String url) throws Exception {
        call("Page.enable", null);
        call("Page.navigate", JSON.createObjectNode().put("url", url));
    }

    /** The value of a JavaScript expression (JSON-serializable), null when it is undefined; a thrown exception fails. */
    JsonNode evaluate(String expression) throws Exception {
        JsonNode r = call("Runtime.evaluate", JSON.createObjectNode().put("expression", expression).put("returnByValue", true));
        if (r.has("exceptionDetails")) throw new IOException("JavaScript failed: " + r.get("exceptionDetails"));
        return r.path("result").get("value");
    }

    /** A PNG of the page as shown, written to file. */
    void screenshot(Path file) throws Exception {
        JsonNode r = call("Page.captureScreenshot", JSON.createObjectNode().put("format", "png"));
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, Base64.getDecoder().decode(r.get("data").asText()));
    }

    String logTail() {
        try {
            String s = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /**
     * Kills the browser: its descendants, itself, and any process left whose command line names this profile (a
     * helper that detached), each by its id, forcibly, waiting for them to go.
     */
    @Override
    public void close() {
        if (socket != null) socket.abort();
        List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
        all.add(process.toHandle());
        all.addAll(byProfile());
        for (ProcessHandle p : all) p.destroyForcibly();
        for (ProcessHandle p : all) {
            try {
                p.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // gone already, or a zombie its parent reaps
            }
        }
        for (ProcessHandle p : byProfile()) p.destroyForcibly();
    }

    /** Live processes whose /proc command line names this browser's profile directory: none once closed. */
    List<ProcessHandle> byProfile() {
        List<ProcessHandle> out = new ArrayList<>();
        String needle = "--user-data-dir=" + profile;
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path d : dirs.toList()) {
                String name = d.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) continue;
                try {
                    String cmd = new String(Files.readAllBytes(d.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
                    if (cmd.contains(needle)) ProcessHandle.of(Long.parseLong(name)).filter(ProcessHandle::isAlive).ifPresent(out::add);
                } catch (IOException | RuntimeException gone) {
                    // exited meanwhile, or not ours to read
                }
            }
        } catch (IOException noProc) {
            // not Linux: descendants were all we could find
        }
        return out;
    }
}
