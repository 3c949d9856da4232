package io.shadowsync.cli.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.shadowsync.metrics.JsonlMetricsFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * The dashboard over HTTP: {@code GET /} the page, {@code /dashboard.js} and {@code /dashboard.css} its code and style
 * (resources of this package), {@code GET /events} the records as server-sent events: an {@code hello} event, the
 * history, then each record as it comes (a {@code message} event whose data is the record's JSON line), and an
 * {@code end} event when the job is over. A comment line every 15 s keeps idle connections open.
 *
 * <p>Binding: loopback unless a token is given ({@link #start} refuses otherwise). With a token every request must carry
 * it: {@code Authorization: Bearer TOKEN}, the cookie this server sets, or {@code ?token=TOKEN} once in the address
 * (answered with that cookie and a redirect to the address without it). On loopback without a token, a request whose
 * {@code Host} is not a loopback name is refused, so that a web page elsewhere cannot read the job through a DNS name
 * pointed at 127.0.0.1.
 */
public final class DashboardServer implements AutoCloseable {
    /** Pages that may follow the events at once; each holds one handler thread. */
    public static final int MAX_PAGES = 12;
    private static final String COOKIE = "shadowsync_dashboard";
    private static final long KEEPALIVE_MILLIS = 15_000;
    private static final Map<String, String> ASSETS = Map.of(
            "/", "index.html", "/index.html", "index.html", "/dashboard.js", "dashboard.js", "/dashboard.css", "dashboard.css");

    private final DashboardFeed feed;
    private final HttpServer http;
    private final ExecutorService pool;
    private final byte[] token;
    private final boolean loopback;
    private final String title;
    private final Semaphore pages = new Semaphore(MAX_PAGES);

    private DashboardServer(DashboardFeed feed, HttpServer http, byte[] token, boolean loopback, String title) {
        this.feed = feed;
        this.http = http;
        this.token = token;
        this.loopback = loopback;
        this.title = title;
        this.pool = Executors.newFixedThreadPool(MAX_PAGES + 4, Thread.ofPlatform().daemon().name("dashboard-", 0).factory());
        http.setExecutor(pool);
        http.createContext("/", this::handle);
    }

    /**
     * Listens on host:port (port 0: a free one) and serves feed; title names the job on the page.
     *
     * @param token the secret every request must carry, or null: then host must be a loopback address
     * @throws IllegalArgumentException when host is not loopback and there is no token
     */
    public static DashboardServer start(DashboardFeed feed, String host, int port, byte[] token, String title) throws IOException {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("the dashboard's port must be in 0..65535, got " + port);
        InetAddress addr = InetAddress.getByName(host);
        if (!addr.isLoopbackAddress() && token == null) {
            throw new IllegalArgumentException("the dashboard listens on " + host + ", not a loopback address, only for a job with a token (--token-file)");
        }
        HttpServer http = HttpServer.create(new InetSocketAddress(addr, port), 32);
        DashboardServer s = new DashboardServer(feed, http, token == null ? null : token.clone(), addr.isLoopbackAddress(), title);
        http.start();
        return s;
    }

    public int port() {
        return http.getAddress().getPort();
    }

    /** The page's address, as a browser on this machine (loopback) or elsewhere (another host) opens it. */
    public String url() {
        InetAddress a = http.getAddress().getAddress();
        String host = a.isAnyLocalAddress() ? "127.0.0.1" : a.getHostAddress();
        if (host.contains(":")) host = "[" + host + "]";
        return "http://" + host + ":" + port() + "/";
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
                text(ex, 405, "the dashboard answers GET only");
                return;
            }
            if (!hostAllowed(ex)) {
                text(ex, 403, "this dashboard answers requests addressed to 127.0.0.1 or localhost only");
                return;
            }
            String path = ex.getRequestURI().getPath();
            String query = ex.getRequestURI().getRawQuery();
            if (token != null) {
                String given = param(query, "token");
                if (given != null && matches(given)) { // remember it in a cookie and take it out of the address bar
                    ex.getResponseHeaders().add("Set-Cookie", COOKIE + "=" + given + "; Path=/; HttpOnly; SameSite=Strict");
                    ex.getResponseHeaders().set("Location", path);
                    ex.sendResponseHeaders(303, -1);
                    return;
                }
                if (!authorized(ex)) {
                    text(ex, 401, "this dashboard needs the job's token: open " + path + "?token=TOKEN once, or send Authorization: Bearer TOKEN");
                    return;
                }
            }
            if (path.equals("/events")) {
                events(ex);
                return;
            }
            String asset = ASSETS.get(path);
            if (asset == null) {
                text(ex, 404, "no such page: " + path);
                return;
            }
            asset(ex, asset);
        }
    }

    private boolean hostAllowed(HttpExchange ex) {
        if (!loopback) return true; // not loopback: the token guards it
        String host = ex.getRequestHeaders().getFirst("Host");
        if (host == null) return true; // HTTP/1.0 clients such as scripts on this machine
        host = host.toLowerCase(Locale.ROOT);
        if (host.startsWith("[")) host = host.substring(0, Math.max(1, host.indexOf(']') + 1));
        else if (host.indexOf(':') >= 0) host = host.substring(0, host.indexOf(':'));
        return host.equals("localhost") || host.equals("[::1]") || host.startsWith("127.");
    }

    private boolean authorized(HttpExchange ex) {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth != null && auth.startsWith("Bearer ") && matches(auth.substring(7).strip())) return true;
        List<String> cookies = ex.getRequestHeaders().get("Cookie");
        if (cookies == null) return false;
        for (String header : cookies) {
            for (String c : header.split(";")) {
                int eq = c.indexOf('=');
                if (eq > 0 && c.substring(0, eq).strip().equals(COOKIE) && matches(c.substring(eq + 1).strip())) return true;
            }
        }
        return false;
    }

    /** In constant time for a token of the right length. */
    private boolean matches(String given) {
        return MessageDigest.isEqual(token, given.getBytes(StandardCharsets.US_ASCII));
    }

    private static String param(String rawQuery, String name) {
        if (rawQuery == null) return null;
        for (String kv : rawQuery.split("&")) {
            int eq = kv.indexOf('=');
            if (eq > 0 && kv.substring(0, eq).equals(name)) return URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
        }
        return null;
    }

    private void asset(HttpExchange ex, String name) throws IOException {
        byte[] body;
        try (InputStream in = DashboardServer.class.getResourceAsStream(name)) {
            if (in == null) throw new IOException("the dashboard's " + name + " is missing from the jar");
            body = in.readAllBytes();
        }
        if (name.equals("index.html")) body = new String(body, StandardCharsets.UTF_8).replace("{{title}}", escape(title)).getBytes(StandardCharsets.UTF_8);
        String type = name.endsWith(".html") ? "text/html" : name.endsWith(".js") ? "text/javascript" : "text/css";
        ex.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.getResponseHeaders().set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:");
        ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        send(ex, 200, body);
    }

    /** The event stream of one page: hello, the history, the records as they come, end. */
    private void events(HttpExchange ex) throws IOException {
        if ("HEAD".equals(ex.getRequestMethod())) {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            ex.sendResponseHeaders(200, -1);
            return;
        }
        if (!pages.tryAcquire()) {
            text(ex, 503, "too many dashboard pages are open (at most " + MAX_PAGES + ")");
            return;
        }
        try (DashboardFeed.Subscriber s = feed.subscribe()) {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            StringBuilder sb = new StringBuilder(1 << 16);
            Map<String, Object> hello = new java.util.LinkedHashMap<>();
            hello.put("title", title);
            hello.put("history", s.replay().size());
            sb.append("event: hello\ndata: ").append(JsonlMetricsFile.line(hello)).append("\n\n");
            for (String line : s.replay()) {
                data(sb, line);
                if (sb.length() > 1 << 16) flush(out, sb);
            }
            flush(out, sb);
            while (true) {
                String line = s.next(KEEPALIVE_MILLIS);
                if (line == null) {
                    if (s.ended()) break;
                    sb.append(": keep-alive\n\n");
                } else {
                    data(sb, line);
                    for (String more : s.drain()) data(sb, more);
                }
                flush(out, sb);
            }
            sb.append("event: end\ndata: {\"dropped\":").append(s.dropped()).append("}\n\n");
            flush(out, sb);
        } catch (IOException gone) {
            // the page was closed: nothing to answer
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            pages.release();
        }
    }

    private static void data(StringBuilder sb, String line) {
        sb.append("data: ").append(line).append("\n\n"); // a JSON line holds no newline
    }

    private static void flush(OutputStream out, StringBuilder sb) throws IOException {
        if (sb.isEmpty()) return;
        out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
        sb.setLength(0);
    }

    private static void text(HttpExchange ex, int code, String message) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        send(ex, code, (message + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange ex, int code, byte[] body) throws IOException {
        if ("HEAD".equals(ex.getRequestMethod())) {
            ex.sendResponseHeaders(code, -1);
            return;
        }
        ex.sendResponseHeaders(code, body.length);
        ex.getResponseBody().write(body);
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /**
     * Stops listening; pages still reading get up to {@code graceSeconds} to take what is queued for them (close the
     * feed first, so that their streams end).
     */
    public void stop(int graceSeconds) {
        http.stop(graceSeconds);
        pool.shutdownNow();
    }

    @Override
    public void close() {
        stop(0);
    }
}
