package io.shadowsync.bench;

import io.grpc.Server;
import io.shadowsync.comm.Codec;
import io.shadowsync.comm.Collective;
import io.shadowsync.comm.Collective.ReduceOp;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.net.coll.NetCollective;
import io.shadowsync.net.coll.RingEndpoint;
import io.shadowsync.net.rdv.Coordinator;
import io.shadowsync.net.rdv.Membership;
import io.shadowsync.net.rdv.Rendezvous;
import io.shadowsync.net.rdv.Role;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Ring-allreduce bandwidth of {@link NetCollective} over loopback, each rank its own JVM, against what plain TCP
 * sockets move on the same machine. For every process count P and message size S it reports the median time of one
 * allreduce (the slowest rank's, after a barrier), the algorithm bandwidth S / t, and the bound
 * {@code 2(P−1)/P · S / B}, where B is measured here by a plain socket copy: one JVM pushing a large buffer through a
 * loopback TCP socket to another. A second bound uses B_ring(P), the per-link rate of P JVMs that each push to the
 * next and read from the previous at once (the ring's traffic pattern, on the same cores).
 * <pre>
 * java -cp bench/target/benchmarks.jar io.shadowsync.bench.AllReduceBench \
 *      [--procs 2,4] [--sizes 1K,16K,256K,1M,4M,16M,64M] [--planes socket,grpc] [--chunk-floats 65536] [--window 16]
 *      [--stream-bounds yes|no] [--json FILE] [--jfr DIR] [--jvm-args "FLAGS"]
 * </pre>
 * Each rank JVM also runs, interleaved with the collective's repetitions (so that both see the same load), a plain
 * socket ring of the same bytes: 2(P−1) steps, each writing S/P bytes to the right neighbour while reading S/P from
 * the left, with no arithmetic — the "raw ring" column, the bound the data plane is measured against.
 * {@code --stream-bounds no} skips the separate socket-stream measurements (B and B_ring) when only that comparison
 * is wanted. {@code --planes} says where the ranks send their messages ({@link NetCollective.DataPlane}): {@code socket}, the raw
 * TCP data plane (the default of a job), and {@code grpc}, the gRPC streams alone; each plane gets its own set of
 * rank JVMs, in the same run as the socket bounds.
 * Sizes are bytes (K = 1024). The table goes to stdout as Markdown; {@code --json} adds one JSON line per row;
 * {@code --jfr DIR} records each rank JVM with Flight Recorder; {@code --jvm-args} adds flags to the rank JVMs (e.g.
 * {@code "--sun-misc-unsafe-memory-access=allow -Dio.grpc.netty.shaded.io.netty.noUnsafe=false"}, which lets Netty
 * use Unsafe again on Java 25, where it is off by default).
 */
public final class AllReduceBench {
    private static final long SOCKET_BYTES = 2L << 30;
    /** CPU nanoseconds per byte moved over one link by plain sockets, by socket-test P (the best trial's). */
    private static final Map<Integer, Double> socketCpuPerByte = new HashMap<>();
    /** Of the last {@link #runRanks}: size -> {reps, CPU nanos of all ranks over those reps}. */
    private static final Map<Long, long[]> lastCpu = new HashMap<>();
    /** Of the last {@link #runRanks}: size -> the raw socket ring's time of each repetition (the slowest rank's). */
    private static final Map<Long, long[]> lastRaw = new HashMap<>();

    private AllReduceBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--rank")) {
            rankMain(args);
            return;
        }
        if (args.length > 0 && args[0].equals("--socket")) {
            socketMain(args);
            return;
        }
        Map<String, String> opt = parse(args);
        List<Integer> procs = new ArrayList<>();
        for (String p : opt.getOrDefault("procs", "2,4").split(",")) procs.add(Integer.parseInt(p.strip()));
        List<Long> sizes = new ArrayList<>();
        for (String s : opt.getOrDefault("sizes", "1K,16K,256K,1M,4M,16M,64M").split(",")) sizes.add(bytes(s.strip()));
        List<NetCollective.DataPlane> planes = new ArrayList<>();
        for (String pl : opt.getOrDefault("planes", "socket,grpc").split(",")) {
            planes.add(NetCollective.DataPlane.valueOf(pl.strip().toUpperCase(Locale.ROOT)));
        }
        int chunk = Integer.parseInt(opt.getOrDefault("chunk-floats", Integer.toString(NetCollective.DEFAULT_CHUNK_FLOATS)));
        int window = Integer.parseInt(opt.getOrDefault("window", Integer.toString(NetCollective.DEFAULT_WINDOW)));
        Path json = opt.containsKey("json") ? Path.of(opt.get("json")) : null;
        String jfr = opt.get("jfr");
        List<String> jvmArgs = opt.containsKey("jvm-args") ? List.of(opt.get("jvm-args").strip().split("\\s+")) : List.of();

        System.err.printf(Locale.ROOT, "allreduce bench: %d cores, chunk %d floats, window %d%n",
                Runtime.getRuntime().availableProcessors(), chunk, window);
        boolean streamBounds = !opt.getOrDefault("stream-bounds", "yes").equals("no");
        double b = streamBounds ? socketBandwidth(1) : Double.NaN;
        System.err.printf(Locale.ROOT, "plain socket copy, one JVM to another: B = %.2f GB/s%n", b / 1e9);
        Map<Integer, Double> ringB = new HashMap<>();
        for (int p : procs) {
            ringB.put(p, streamBounds ? socketBandwidth(p) : Double.NaN);
            System.err.printf(Locale.ROOT, "socket ring of %d JVMs: B_ring = %.2f GB/s per link%n", p, ringB.get(p) / 1e9);
        }
        List<String> rows = new ArrayList<>();
        List<String> jsonLines = new ArrayList<>();
        for (int p : procs) for (NetCollective.DataPlane plane : planes) {
            Map<Long, long[]> times = runRanks(p, plane, sizes, chunk, window, jfr, jvmArgs);
            String pl = plane.name().toLowerCase(Locale.ROOT);
            for (long s : sizes) {
                long[] t = times.get(s);
                double med = median(t) / 1e9;
                double bound = 2.0 * (p - 1) / p * s / b;
                double boundRing = 2.0 * (p - 1) / p * s / ringB.get(p);
                long[] c = lastCpu.get(s);
                // every rank sends 2(P−1)/P·S per allreduce: 2(P−1)·S bytes cross links in all
                double cpuPerByte = c == null ? Double.NaN : c[1] / (double) c[0] / (2.0 * (p - 1) * s);
                double raw = median(lastRaw.get(s)) / 1e9;
                String bounds = streamBounds ? String.format(Locale.ROOT, " %.3f | %.0f%% | %.3f | %.0f%% |", bound * 1e3,
                        100 * bound / med, boundRing * 1e3, 100 * boundRing / med) : "";
                rows.add(String.format(Locale.ROOT, "| %d | %s | %s | %d | %.3f | %.3f | %.3f | %.0f%% |%s %.2f |",
                        p, pl, size(s), t.length, med * 1e3, s / med / 1e9, raw * 1e3, 100 * raw / med, bounds, cpuPerByte));
                jsonLines.add(String.format(Locale.ROOT, "{\"procs\":%d,\"plane\":\"%s\",\"bytes\":%d,\"reps\":%d,\"median_s\":%.6g,"
                                + "\"algbw_Bps\":%.6g,\"raw_ring_s\":%.6g,\"bound_s\":%.6g,\"ring_bound_s\":%.6g,\"socket_Bps\":%.6g,"
                                + "\"socket_ring_Bps\":%.6g,\"cpu_ns_per_byte\":%.4g,\"socket_cpu_ns_per_byte\":%.4g,"
                                + "\"chunk_floats\":%d,\"window\":%d,\"cores\":%d}",
                        p, pl, s, t.length, med, s / med, raw, bound, boundRing, b, ringB.get(p), cpuPerByte,
                        socketCpuPerByte.get(p), chunk, window, Runtime.getRuntime().availableProcessors()));
            }
        }
        PrintStream out = System.out;
        out.printf(Locale.ROOT, "B (socket copy) = %.2f GB/s; B_ring: %s; %d cores; chunk %d floats, window %d%s%n%n",
                b / 1e9, ringText(ringB), Runtime.getRuntime().availableProcessors(), chunk, window,
                jvmArgs.isEmpty() ? "" : "; rank JVM flags " + String.join(" ", jvmArgs));
        if (streamBounds) {
            out.printf(Locale.ROOT, "Java-thread CPU per byte moved over one link, plain sockets: %.2f ns (one JVM to another)%s%n",
                    socketCpuPerByte.get(1), socketCpuText(procs));
        }
        out.printf(Locale.ROOT, "load average at the end: %s%n%n", loadAverage());
        out.println("| procs | plane | size | reps | median ms | algbw GB/s | raw ring ms | of raw ring |"
                + (streamBounds ? " bound ms 2(n−1)/n·S/B | of bound | ring bound ms | of ring bound |" : "")
                + " CPU ns/B (Java threads) |");
        out.println("|---|---|---|---|---|---|---|---|" + (streamBounds ? "---|---|---|---|" : "") + "---|");
        for (String r : rows) out.println(r);
        if (json != null) {
            try (Writer w = Files.newBufferedWriter(json, StandardCharsets.UTF_8)) {
                for (String l : jsonLines) w.write(l + "\n");
            }
        }
    }

    /**
     * Runs P rank JVMs that meet through a rendezvous coordinator served here; returns, for every size, the time of
     * each timed repetition (the slowest rank's).
     */
    private static Map<Long, long[]> runRanks(int p, NetCollective.DataPlane plane, List<Long> sizes, int chunk, int window, String jfr, List<String> jvmArgs)
            throws Exception {
        Transport t = new Transport(NetConfig.LOOPBACK);
        Coordinator rdv = new Coordinator(p, 0, Duration.ofSeconds(120));
        Server server = t.serve(0, List.of(rdv));
        List<Process> children = new ArrayList<>();
        List<Thread> readers = new ArrayList<>();
        Map<Long, long[]> slowest = new LinkedHashMap<>();
        Map<Long, long[]> cpu = new HashMap<>(); // size -> {reps, CPU nanos summed over ranks}
        Map<Long, long[]> raw = new HashMap<>();
        StringBuilder[] logs = new StringBuilder[p];
        try {
            StringBuilder sizeList = new StringBuilder();
            for (long s : sizes) sizeList.append(sizeList.isEmpty() ? "" : ",").append(s);
            for (int r = 0; r < p; r++) {
                List<String> cmd = javaCommand(jfr == null ? null : Path.of(jfr, "rank" + r + "-of-" + p + "-" + plane + ".jfr"), jvmArgs);
                cmd.addAll(List.of("--rank", Integer.toString(r), "127.0.0.1:" + server.getPort(), sizeList.toString(),
                        Integer.toString(chunk), Integer.toString(window), plane.name()));
                Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                children.add(proc);
                logs[r] = new StringBuilder();
                final StringBuilder log = logs[r];
                Thread reader = new Thread(() -> {
                    try (BufferedReader in = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8))) {
                        for (String line; (line = in.readLine()) != null; ) {
                            if (line.startsWith("T ") || line.startsWith("R ")) {
                                String[] f = line.split(" ");
                                long size = Long.parseLong(f[1]);
                                int rep = Integer.parseInt(f[2]), reps = Integer.parseInt(f[3]);
                                long nanos = Long.parseLong(f[4]);
                                synchronized (slowest) {
                                    long[] a = (line.startsWith("T ") ? slowest : raw).computeIfAbsent(size, k -> new long[reps]);
                                    a[rep] = Math.max(a[rep], nanos);
                                }
                            } else if (line.startsWith("C ")) {
                                String[] f = line.split(" ");
                                synchronized (slowest) {
                                    long[] a = cpu.computeIfAbsent(Long.parseLong(f[1]), k -> new long[2]);
                                    a[0] = Long.parseLong(f[2]);
                                    a[1] += Long.parseLong(f[3]);
                                }
                            } else {
                                synchronized (log) {
                                    log.append(line).append('\n');
                                }
                            }
                        }
                    } catch (IOException e) {
                        synchronized (log) {
                            log.append("(output lost: ").append(e).append(")\n");
                        }
                    }
                }, "bench-rank-" + r + "-output");
                reader.start();
                readers.add(reader);
            }
            for (int r = 0; r < p; r++) {
                Process proc = children.get(r);
                if (!proc.waitFor(30, TimeUnit.MINUTES) || proc.exitValue() != 0) {
                    throw new IllegalStateException("rank " + r + " of " + p + " failed:\n" + logs[r]);
                }
            }
            for (Thread th : readers) th.join(10_000);
            System.err.printf(Locale.ROOT, "%d processes done (%s)%n", p, plane);
        } finally {
            for (Process proc : children) proc.destroyForcibly();
            server.shutdownNow();
            server.awaitTermination(5, TimeUnit.SECONDS);
            rdv.close();
        }
        synchronized (slowest) {
            lastCpu.clear();
            lastCpu.putAll(cpu);
            lastRaw.clear();
            lastRaw.putAll(raw);
            return new LinkedHashMap<>(slowest);
        }
    }

    /** One rank: serve, rendezvous, then for every size a barrier and a timed allreduce (MEAN keeps values bounded). */
    private static void rankMain(String[] args) throws Exception {
        int rank = Integer.parseInt(args[1]);
        HostPort coordinator = HostPort.parse(args[2]);
        String[] sizes = args[3].split(",");
        int chunk = Integer.parseInt(args[4]);
        int window = Integer.parseInt(args[5]);
        NetCollective.DataPlane plane = NetCollective.DataPlane.valueOf(args[6]);
        Transport t = new Transport(NetConfig.LOOPBACK);
        RingEndpoint ring = new RingEndpoint();
        Server server = t.serve(0, List.of(ring));
        try {
            HostPort self = new HostPort("127.0.0.1", server.getPort());
            Membership m = Rendezvous.join(t, coordinator, Role.TRAINER, rank, self, "allreduce-bench", Duration.ofSeconds(60));
            try (Collective c = NetCollective.join(t, ring, "bench", rank, m.trainers(), Duration.ofSeconds(60), chunk, window,
                    Codec.FLOAT32, plane); RawRing rawRing = new RawRing(c, rank, m.trainers().size(), maxBytes(sizes))) {
                // warm the JIT on the whole path first, so that its compile time is not in the figures
                for (int len : new int[] {256, 1 << 14, 1 << 18, 1 << 20}) {
                    float[] w = new float[len];
                    for (int k = 0; k < (len < (1 << 18) ? 300 : 60); k++) c.allReduce(w, 0, len, ReduceOp.MEAN);
                }
                System.err.println("rank " + rank + ": " + c); // says which plane it sends on
                for (String s : sizes) {
                    long bytes = Long.parseLong(s);
                    int floats = (int) (bytes / 4);
                    float[] x = new float[floats];
                    for (int i = 0; i < floats; i++) x[i] = rank + i % 97;
                    int reps = bytes <= (256 << 10) ? 200 : bytes <= (4 << 20) ? 40 : bytes <= (16 << 20) ? 15 : 8;
                    int warm = Math.max(3, reps / 4);
                    long cpu = 0;
                    for (int k = 0; k < warm + reps; k++) {
                        c.barrier();
                        long c0 = processCpuNanos(), t0 = System.nanoTime();
                        c.allReduce(x, 0, floats, ReduceOp.MEAN);
                        long dt = System.nanoTime() - t0;
                        if (k >= warm) {
                            cpu += processCpuNanos() - c0;
                            System.out.println("T " + bytes + " " + (k - warm) + " " + reps + " " + dt);
                        }
                        c.barrier(); // then the same bytes around a plain socket ring, under the same load
                        long r0 = System.nanoTime();
                        rawRing.run(bytes);
                        long rt = System.nanoTime() - r0;
                        if (k >= warm) System.out.println("R " + bytes + " " + (k - warm) + " " + reps + " " + rt);
                    }
                    // CPU of the timed allreduces alone
                    System.out.println("C " + bytes + " " + reps + " " + cpu);
                }
                c.barrier();
            }
        } finally {
            ring.close();
            server.shutdownNow();
            server.awaitTermination(5, TimeUnit.SECONDS);
        }
        System.exit(0);
    }

    /**
     * Per-link bandwidth of plain loopback TCP among P JVMs: P = 1 means one JVM pushing to another (the classic
     * socket copy); P ≥ 2 means a ring of P JVMs, each pushing to the next while it reads from the previous.
     * Returns bytes per second per link (the slowest link's), best of three.
     */
    private static double socketBandwidth(int p) throws Exception {
        int procs = p == 1 ? 2 : p;
        double best = 0;
        for (int trial = 0; trial < 3; trial++) {
            List<Process> children = new ArrayList<>();
            try {
                List<BufferedReader> outs = new ArrayList<>();
                List<Integer> ports = new ArrayList<>();
                for (int r = 0; r < procs; r++) {
                    List<String> cmd = javaCommand(null, List.of());
                    // P = 1: process 0 only sends, process 1 only receives
                    String mode = p == 1 ? (r == 0 ? "send" : "recv") : "both";
                    cmd.addAll(List.of("--socket", mode, Long.toString(SOCKET_BYTES)));
                    Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                    children.add(proc);
                    BufferedReader in = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8));
                    outs.add(in);
                    ports.add(Integer.parseInt(expect(in, "PORT ")));
                }
                for (int r = 0; r < procs; r++) {
                    int right = ports.get((r + 1) % procs);
                    children.get(r).getOutputStream().write((right + "\n").getBytes(StandardCharsets.US_ASCII));
                    children.get(r).getOutputStream().flush();
                }
                long slowest = 0, cpu = 0;
                for (int r = 0; r < procs; r++) {
                    cpu += Long.parseLong(expect(outs.get(r), "CPU "));
                    long nanos = Long.parseLong(expect(outs.get(r), "NANOS "));
                    if (p > 1 || r == 1) slowest = Math.max(slowest, nanos); // P = 1: the receiver's time is the copy's
                }
                for (Process proc : children) proc.waitFor(60, TimeUnit.SECONDS);
                double rate = SOCKET_BYTES / (slowest / 1e9);
                if (rate > best) {
                    best = rate;
                    // CPU per byte moved over one link: P = 1 moves the bytes once, a ring of P moves them P times
                    socketCpuPerByte.put(p, cpu / ((double) SOCKET_BYTES * (p == 1 ? 1 : p)));
                }
            } finally {
                for (Process proc : children) proc.destroyForcibly();
            }
        }
        return best;
    }

    /** A socket child: listens, prints its port, reads its right neighbour's port, then sends and/or receives. */
    private static void socketMain(String[] args) throws Exception {
        String mode = args[1];
        long total = Long.parseLong(args[2]);
        try (ServerSocketChannel listen = ServerSocketChannel.open()) {
            listen.bind(new InetSocketAddress("127.0.0.1", 0));
            System.out.println("PORT " + ((InetSocketAddress) listen.getLocalAddress()).getPort());
            System.out.flush();
            int right = Integer.parseInt(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII)).readLine().strip());
            boolean send = !mode.equals("recv"), recv = !mode.equals("send");
            SocketChannel out = send ? SocketChannel.open(new InetSocketAddress("127.0.0.1", right)) : null;
            SocketChannel in = recv ? listen.accept() : null;
            long[] senderCpu = new long[1]; // written by the sender before it ends, read after join
            long cpu0 = processCpuNanos(), t0 = System.nanoTime();
            Thread sender = null;
            if (send) {
                sender = new Thread(() -> {
                    long c0 = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
                    ByteBuffer buf = ByteBuffer.allocateDirect(4 << 20);
                    try {
                        for (long left = total; left > 0; ) {
                            buf.clear().limit((int) Math.min(buf.capacity(), left));
                            left -= out.write(buf);
                        }
                        out.shutdownOutput();
                        senderCpu[0] = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - c0;
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, "socket-sender");
                sender.start();
            }
            if (recv) {
                ByteBuffer buf = ByteBuffer.allocateDirect(4 << 20);
                for (long got = 0; got < total; ) {
                    buf.clear();
                    int k = in.read(buf);
                    if (k < 0) throw new IOException("the sender stopped after " + got + " of " + total + " bytes");
                    got += k;
                }
            }
            if (sender != null) sender.join();
            long dt = System.nanoTime() - t0;
            long cpu = processCpuNanos() - cpu0 + (sender == null ? 0 : senderCpu[0]);
            System.out.println("CPU " + cpu);
            System.out.println("NANOS " + dt);
            System.out.flush();
            if (in != null) in.close();
            if (out != null) out.close();
        }
        System.exit(0);
    }

    private static long maxBytes(String[] sizes) {
        long max = 0;
        for (String s : sizes) max = Math.max(max, Long.parseLong(s));
        return max;
    }

    /**
     * The traffic of a ring allreduce over plain sockets, the bound a collective's data path is measured against: each
     * of 2(P−1) steps writes S/P bytes to the right neighbour while it reads S/P bytes from the left, and the next step
     * starts when both are done (as a ring step waits for its segment); no arithmetic, no framing.
     */
    private static final class RawRing implements AutoCloseable {
        private final int p;
        private final SocketChannel out, in;
        private final Selector selector;
        private final SelectionKey outKey, inKey;
        private final ByteBuffer send, recv;

        RawRing(Collective c, int rank, int p, long maxBytes) throws IOException, InterruptedException {
            this.p = p;
            try (ServerSocketChannel listen = ServerSocketChannel.open()) {
                listen.bind(new InetSocketAddress("127.0.0.1", 0));
                long[] ports = c.allGatherLongs(new long[] {((InetSocketAddress) listen.getLocalAddress()).getPort()});
                out = SocketChannel.open(new InetSocketAddress("127.0.0.1", (int) ports[(rank + 1) % p]));
                in = listen.accept();
            }
            out.configureBlocking(false);
            in.configureBlocking(false);
            selector = Selector.open();
            outKey = out.register(selector, SelectionKey.OP_WRITE);
            inKey = in.register(selector, SelectionKey.OP_READ);
            int seg = (int) Math.ceilDiv(maxBytes, p);
            send = ByteBuffer.allocateDirect(seg);
            recv = ByteBuffer.allocateDirect(seg);
        }

        void run(long bytes) throws IOException {
            int seg = (int) Math.ceilDiv(bytes, p);
            for (int step = 0; step < 2 * (p - 1); step++) {
                send.clear().limit(seg);
                recv.clear().limit(seg);
                while (send.hasRemaining() || recv.hasRemaining()) {
                    int moved = send.hasRemaining() ? out.write(send) : 0;
                    if (recv.hasRemaining()) {
                        int k = in.read(recv);
                        if (k < 0) throw new IOException("the raw ring's left neighbour closed its socket");
                        moved += k;
                    }
                    if (moved == 0) {
                        outKey.interestOps(send.hasRemaining() ? SelectionKey.OP_WRITE : 0);
                        inKey.interestOps(recv.hasRemaining() ? SelectionKey.OP_READ : 0);
                        selector.select(1000);
                        selector.selectedKeys().clear();
                    }
                }
            }
        }

        @Override
        public void close() throws IOException {
            out.close();
            in.close();
            selector.close();
        }
    }

    /**
     * CPU time of this JVM's Java threads (the rank's, gRPC's event loops and executors), in nanoseconds: the JIT
     * compiler, which in a run of seconds is still compiling gRPC and Netty, and the GC are left out, so that the
     * figure is the steady-state cost of the path.
     */
    private static long processCpuNanos() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long id : mx.getAllThreadIds()) {
            long t = mx.getThreadCpuTime(id);
            if (t > 0) sum += t;
        }
        return sum;
    }

    private static String expect(BufferedReader in, String prefix) throws IOException {
        for (String line; (line = in.readLine()) != null; ) {
            if (line.startsWith(prefix)) return line.substring(prefix.length()).strip();
        }
        throw new IOException("a child ended without printing " + prefix.strip());
    }

    private static List<String> javaCommand(Path jfr, List<String> jvmArgs) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms1g", "-Xmx2g", "-XX:+UseParallelGC", "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(jvmArgs);
        if (jfr != null) cmd.add("-XX:StartFlightRecording=filename=" + jfr + ",settings=profile");
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), AllReduceBench.class.getName()));
        return cmd;
    }

    private static double median(long[] t) {
        long[] s = t.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }

    private static String socketCpuText(List<Integer> procs) {
        StringBuilder sb = new StringBuilder();
        for (int p : procs) sb.append(String.format(Locale.ROOT, ", %.2f ns (ring of %d)", socketCpuPerByte.get(p), p));
        return sb.toString();
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static String ringText(Map<Integer, Double> ringB) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<Integer, Double> e : ringB.entrySet()) {
            if (!sb.isEmpty()) sb.append(", ");
            sb.append(String.format(Locale.ROOT, "%d JVMs %.2f GB/s per link", e.getKey(), e.getValue() / 1e9));
        }
        return sb.toString();
    }

    static long bytes(String s) {
        String t = s.toUpperCase(Locale.ROOT);
        long mult = 1;
        if (t.endsWith("K")) mult = 1L << 10;
        else if (t.endsWith("M")) mult = 1L << 20;
        else if (t.endsWith("G")) mult = 1L << 30;
        if (mult > 1) t = t.substring(0, t.length() - 1);
        long b = Long.parseLong(t) * mult;
        if (b < 4 || b % 4 != 0 || b / 4 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("size '" + s + "' must be a positive multiple of 4 bytes (whole floats)");
        }
        return b;
    }

    private static String size(long b) {
        if (b % (1L << 20) == 0) return (b >> 20) + " MB";
        if (b % (1L << 10) == 0) return (b >> 10) + " KB";
        return b + " B";
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "'");
            }
            m.put(args[i].substring(2), args[++i]);
        }
        return m;
    }
}
