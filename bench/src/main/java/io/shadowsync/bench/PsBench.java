package io.shadowsync.bench;

import io.shadowsync.comm.RowCodec;
import io.shadowsync.net.HostPort;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.net.ps.PsServer;
import io.shadowsync.net.ps.PsShardSpec;
import io.shadowsync.net.ps.RemoteEmbeddingStore;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Rows per second parameter-server shards pull and push under DLRM-like traffic: client threads each run
 * steps of {@code --batch} examples × {@code --tables} tables (distinct rows per table, Zipf-like ids) against
 * {@code --shards} {@link PsServer}s (default 1) started in this JVM on 127.0.0.1, through {@link RemoteEmbeddingStore}
 * (row-wise Adagrad on the server); with {@code --replicas R} every shard has R copies and a push is acknowledged once
 * every copy has it, so {@code --shards 2 --replicas 1} against {@code --replicas 2} prices replication. Pull and push are measured apart, each in two modes: {@code step} (all tables of a step in one request,
 * {@code prefetch} + {@code beginStep}/{@code endStep}) and {@code per-table} (one request per table), and {@code
 * train} (a trainer's step: the next step's rows announced with {@code prefetchNext}, this step's pulled, its pushes
 * sent at {@code endStep}). Each over the nodes' row lanes (raw TCP), the gRPC row streams and the unary calls
 * ({@code --calls lane,stream,unary}), the repetitions of the three interleaved; and for each row codec of
 * {@code --row-codecs} (default {@code none}; e.g. {@code none,fp16,bf16,int8}: the rows' values as
 * {@code --compress-rows} sends them), one codec after the other. Prints one JSON line per measurement with the median
 * of {@code --reps} repetitions and the encoded bytes of values per row moved ({@code bytes_per_row}).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar io.shadowsync.bench.PsBench \
 *      [--tables 26] [--rows 100000] [--dim 16] [--batch 256] [--threads 4] [--reps 5] [--rep-ms 1000]
 *      [--shards 1] [--replicas 1] [--ops pull,push,train] [--calls lane,stream,unary] [--row-codecs none]
 * </pre>
 * Client and server share this machine's cores, so the figures are a floor for a shard on its own host.
 */
public final class PsBench {
    private PsBench() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = parse(args);
        int tables = Integer.parseInt(opt.getOrDefault("tables", "26"));
        int rows = Integer.parseInt(opt.getOrDefault("rows", "100000"));
        int dim = Integer.parseInt(opt.getOrDefault("dim", "16"));
        int batch = Integer.parseInt(opt.getOrDefault("batch", "256"));
        int threads = Integer.parseInt(opt.getOrDefault("threads", "4"));
        int reps = Integer.parseInt(opt.getOrDefault("reps", "5"));
        long repMs = Long.parseLong(opt.getOrDefault("rep-ms", "1000"));
        int replicas = Integer.parseInt(opt.getOrDefault("replicas", "1"));
        int shards = Math.max(replicas, Integer.parseInt(opt.getOrDefault("shards", "1")));
        List<String> ops = List.of(opt.getOrDefault("ops", "pull,push,train").split(","));
        List<RemoteEmbeddingStore.Calls> calls = new ArrayList<>();
        for (String c : opt.getOrDefault("calls", "lane,stream,unary").split(",")) calls.add(RemoteEmbeddingStore.Calls.valueOf(c.toUpperCase(Locale.ROOT)));
        List<RowCodec> codecs = new ArrayList<>();
        for (String c : opt.getOrDefault("row-codecs", "none").split(",")) codecs.add(RowCodec.named(c));

        long[][] shapes = new long[tables][];
        float[] stds = new float[tables];
        for (int t = 0; t < tables; t++) {
            shapes[t] = new long[] {rows, dim};
            stds[t] = 0.01f;
        }
        PsShardSpec spec = new PsShardSpec(shapes, stds, 1, new EmbeddingOptimizerSpec("rowwise-adagrad", 0.01), null, null, 0, shards);
        Transport transport = new Transport(NetConfig.LOOPBACK);
        List<PsServer> nodes = new ArrayList<>();
        List<HostPort> addresses = new ArrayList<>();
        try {
            for (int s = 0; s < shards; s++) {
                nodes.add(PsServer.start(transport, 0, spec.forShard(s), replicas));
                addresses.add(new HostPort("127.0.0.1", nodes.get(s).port()));
            }
            if (replicas > 1) for (PsServer ps : nodes) ps.connectReplicas(addresses);
            for (RowCodec codec : codecs) measure(transport, addresses, tables, rows, dim, batch, threads, reps, repMs, replicas, ops, calls, codec);
        } finally {
            for (PsServer ps : nodes) ps.close();
        }
    }

    private static void measure(Transport transport, List<HostPort> addresses, int tables, int rows, int dim, int batch, int threads,
                                int reps, long repMs, int replicas, List<String> ops, List<RemoteEmbeddingStore.Calls> calls,
                                RowCodec codec) throws InterruptedException {
        List<RemoteEmbeddingStore> stores = new ArrayList<>();
        try {
            for (RemoteEmbeddingStore.Calls c : calls) stores.add(RemoteEmbeddingStore.connect(transport, addresses, false, c, codec));
            Traffic[] traffic = new Traffic[threads];
            for (int w = 0; w < threads; w++) traffic[w] = new Traffic(tables, rows, dim, batch, 1000 + w);
            for (String op : new String[] {"pull", "push", "train"}) {
                if (!ops.contains(op)) continue;
                for (String mode : op.equals("train") ? new String[] {"step"} : new String[] {"step", "per-table"}) {
                    double[][] rates = new double[stores.size()][reps];
                    long[] requests0 = new long[stores.size()];
                    long[][] bytes0 = new long[stores.size()][];
                    for (int c = 0; c < stores.size(); c++) {
                        run(stores.get(c), traffic, op, mode, repMs); // warm-up, not recorded
                        requests0[c] = stores.get(c).requests();
                        bytes0[c] = stores.get(c).rowBytes().snapshot();
                    }
                    for (int r = 0; r < reps; r++) {
                        for (int c = 0; c < stores.size(); c++) rates[c][r] = run(stores.get(c), traffic, op, mode, repMs);
                    }
                    for (int c = 0; c < stores.size(); c++) {
                        double requestsPerSec = (stores.get(c).requests() - requests0[c]) * 1000.0 / (reps * repMs);
                        long[] b1 = stores.get(c).rowBytes().snapshot(); // {rows pulled, pushed, bytes pulled, pushed, ...}
                        long movedRows = b1[0] - bytes0[c][0] + b1[1] - bytes0[c][1], movedBytes = b1[2] - bytes0[c][2] + b1[3] - bytes0[c][3];
                        Map<String, Object> row = new LinkedHashMap<>();
                        row.put("bench", "ps");
                        row.put("op", op);
                        row.put("mode", mode);
                        row.put("calls", calls.get(c).name().toLowerCase(Locale.ROOT));
                        row.put("shards", addresses.size());
                        row.put("replicas", replicas);
                        row.put("threads", threads);
                        row.put("batch", batch);
                        row.put("tables", tables);
                        row.put("dim", dim);
                        row.put("row_codec", codec.name());
                        row.put("bytes_per_row", movedRows == 0 ? 0 : Math.round(10.0 * movedBytes / movedRows) / 10.0);
                        row.put("rows_per_sec_median", Math.round(median(rates[c])));
                        row.put("rows_per_sec_per_shard", Math.round(median(rates[c]) / addresses.size()));
                        row.put("requests_per_sec", Math.round(requestsPerSec));
                        row.put("reps", reps);
                        row.put("rep_rows_per_sec", round(rates[c]));
                        System.out.println(toJson(row));
                    }
                }
            }
        } finally {
            for (RemoteEmbeddingStore s : stores) s.close();
        }
    }

    /** Every thread runs its traffic for ms milliseconds; returns rows per second, all threads together. */
    private static double run(RemoteEmbeddingStore store, Traffic[] traffic, String op, String mode, long ms) throws InterruptedException {
        AtomicLong total = new AtomicLong();
        long end = System.nanoTime() + ms * 1_000_000L;
        boolean push = op.equals("push"), train = op.equals("train"), step = mode.equals("step");
        Thread[] threads = new Thread[traffic.length];
        long t0 = System.nanoTime();
        for (int w = 0; w < traffic.length; w++) {
            Traffic tr = traffic[w];
            threads[w] = new Thread(() -> total.addAndGet(train ? tr.train(store, end) : tr.loop(store, push, step, end)),
                    "ps-bench-client-" + w);
            threads[w].start();
        }
        for (Thread t : threads) t.join();
        return total.get() * 1e9 / (System.nanoTime() - t0);
    }

    /** One client thread's steps: pregenerated batches of distinct Zipf-like row ids per table, and gradients. */
    private static final class Traffic {
        private static final int BATCHES = 32;
        final int tables, dim;
        final int[][][] ids; // [batch][table][distinct ids]
        final float[] rows, grads;

        Traffic(int tables, int numRows, int dim, int batch, long seed) {
            this.tables = tables;
            this.dim = dim;
            SplittableRandom rng = new SplittableRandom(seed);
            ids = new int[BATCHES][tables][];
            for (int b = 0; b < BATCHES; b++) {
                for (int t = 0; t < tables; t++) {
                    int[] raw = new int[batch];
                    // Zipf-like: a row's id is numRows^u − 1 for uniform u, so small ids are hit far more often
                    for (int j = 0; j < batch; j++) raw[j] = (int) Math.min(numRows - 1, Math.pow(numRows, rng.nextDouble()) - 1);
                    ids[b][t] = Arrays.stream(raw).distinct().toArray(); // setup, not timed
                }
            }
            rows = new float[batch * dim];
            grads = new float[batch * dim];
            for (int i = 0; i < grads.length; i++) grads[i] = (float) (rng.nextGaussian() * 1e-3);
        }

        /**
         * Runs a trainer's steps until the deadline: announces the next batch's rows, pulls this batch's (served from
         * the rows announced a step before) and pushes their gradients; returns the rows pulled and pushed.
         */
        long train(RemoteEmbeddingStore store, long deadline) {
            long moved = 0;
            for (int b = 0; System.nanoTime() < deadline; b = (b + 1) % BATCHES) {
                int[][] batchIds = ids[b], nextIds = ids[(b + 1) % BATCHES];
                store.beginStep();
                for (int t = 0; t < tables; t++) store.prefetchNext(t, nextIds[t], 0, nextIds[t].length);
                for (int t = 0; t < tables; t++) store.prefetch(t, batchIds[t], 0, batchIds[t].length);
                for (int t = 0; t < tables; t++) {
                    int[] tid = batchIds[t];
                    store.pull(t, tid, 0, tid.length, rows, 0);
                    moved += tid.length;
                }
                for (int t = 0; t < tables; t++) {
                    int[] tid = batchIds[t];
                    store.push(t, tid, 0, tid.length, grads, 0);
                    moved += tid.length;
                }
                store.endStep();
            }
            store.flush();
            return moved;
        }

        /** Runs steps until the deadline; returns the rows moved. */
        long loop(RemoteEmbeddingStore store, boolean push, boolean step, long deadline) {
            long moved = 0;
            for (int b = 0; System.nanoTime() < deadline; b = (b + 1) % BATCHES) {
                int[][] batchIds = ids[b];
                if (step) {
                    store.beginStep();
                    if (!push) for (int t = 0; t < tables; t++) store.prefetch(t, batchIds[t], 0, batchIds[t].length);
                }
                for (int t = 0; t < tables; t++) {
                    int[] tid = batchIds[t];
                    if (push) store.push(t, tid, 0, tid.length, grads, 0);
                    else store.pull(t, tid, 0, tid.length, rows, 0);
                    moved += tid.length;
                }
                if (step) store.endStep();
            }
            store.flush();
            return moved;
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static long[] round(double[] v) {
        long[] r = new long[v.length];
        for (int i = 0; i < v.length; i++) r[i] = Math.round(v[i]);
        return r;
    }

    private static String toJson(Map<String, Object> row) {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, Object> e : row.entrySet()) {
            if (sb.length() > 1) sb.append(',');
            sb.append('"').append(e.getKey()).append("\":");
            Object v = e.getValue();
            if (v instanceof long[] a) sb.append(Arrays.toString(a).replace(" ", ""));
            else sb.append(v instanceof Number ? v.toString() : "\"" + v + "\"");
        }
        return sb.append('}').toString();
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> m = new LinkedHashMap<>();
        List<String> known = new ArrayList<>(List.of("tables", "rows", "dim", "batch", "threads", "reps", "rep-ms", "shards",
                "replicas", "ops", "calls", "row-codecs"));
        for (int i = 0; i < args.length; i++) {
            String k = args[i].startsWith("--") ? args[i].substring(2) : "";
            if (!known.contains(k) || i + 1 >= args.length) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "usage: PsBench [--%s N]..., got '%s'",
                        String.join(" N] [--", known), args[i]));
            }
            m.put(k, args[++i]);
        }
        return m;
    }
}
