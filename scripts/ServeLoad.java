import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A closed-loop load client for {@code shadowsync serve} over loopback (JDK HttpClient, no dependency):
 * {@code java scripts/ServeLoad.java URL BODY_FILE SECONDS CONCURRENCY...}. For each concurrency C, C threads each send
 * the body (one example) to URL back to back for SECONDS (after a 1 s warm-up); prints one line per C with requests/s,
 * p50 and p99 latency. Every answer must be 200, else it stops with the body.
 */
public final class ServeLoad {
    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: java scripts/ServeLoad.java URL BODY_FILE SECONDS CONCURRENCY...");
            System.exit(2);
        }
        URI uri = URI.create(args[0]);
        String body = Files.readString(Path.of(args[1]));
        double seconds = Double.parseDouble(args[2]);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int a = 3; a < args.length; a++) {
            int c = Integer.parseInt(args[a]);
            run(client, uri, body, c, 1.0); // warm-up
            long t0 = System.nanoTime();
            List<long[]> per = run(client, uri, body, c, seconds);
            double wall = (System.nanoTime() - t0) / 1e9;
            long[] all = per.stream().flatMapToLong(Arrays::stream).toArray();
            Arrays.sort(all);
            System.out.printf("concurrency %d: %d requests in %.1f s, %.0f requests/s, p50 %.2f ms, p99 %.2f ms%n",
                    c, all.length, wall, all.length / wall, q(all, 0.5) / 1e6, q(all, 0.99) / 1e6);
        }
    }

    private static List<long[]> run(HttpClient client, URI uri, String body, int c, double seconds) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(uri).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        ExecutorService pool = Executors.newFixedThreadPool(c);
        List<Future<long[]>> fs = new ArrayList<>();
        for (int t = 0; t < c; t++) {
            fs.add(pool.submit(() -> {
                long[] lat = new long[1024];
                int n = 0;
                while (System.nanoTime() < end) {
                    long s = System.nanoTime();
                    HttpResponse<String> r = client.send(req, HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() != 200) throw new IllegalStateException("HTTP " + r.statusCode() + ": " + r.body());
                    if (n == lat.length) lat = Arrays.copyOf(lat, n * 2);
                    lat[n++] = System.nanoTime() - s;
                }
                return Arrays.copyOf(lat, n);
            }));
        }
        List<long[]> out = new ArrayList<>();
        for (Future<long[]> f : fs) out.add(f.get());
        pool.shutdown();
        return out;
    }

    private static long q(long[] sorted, double q) {
        if (sorted.length == 0) return 0;
        return sorted[Math.max(0, Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1))];
    }
}
