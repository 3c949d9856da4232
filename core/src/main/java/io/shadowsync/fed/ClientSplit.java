package io.shadowsync.fed;

import io.shadowsync.data.Batch;
import io.shadowsync.data.DataSchema;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.data.ForwardingReader;
import io.shadowsync.data.InMemorySource;
import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How one data set is dealt out to K clients, as federated benchmarks make their non-IID shards (the forms of
 * Hsu et al. 2019 and Li et al., "Federated Learning on Non-IID Data Silos", 2022):
 * <ul>
 *   <li>{@code iid}: a seeded shuffle cut into K parts of equal size (±1);</li>
 *   <li>{@code dirichlet:ALPHA}: label skew — for every class c, proportions p ~ Dir(α·1_K) over the clients, and
 *       class c's examples (shuffled) are cut at the cumulative proportions; small α (0.1) gives clients that hold
 *       one or two classes, large α (100) approaches IID. Needs class labels;</li>
 *   <li>{@code quantity:ALPHA}: quantity skew — proportions p ~ Dir(α·1_K) of the shuffled data, labels IID;</li>
 *   <li>{@code files}: one data file per client, given as such (no split here).</li>
 * </ul>
 * A draw that leaves some client without an example is drawn again (up to {@value #MAX_DRAWS} times, then refused):
 * a client with nothing to train on cannot take part.
 *
 * @param kind  the form
 * @param alpha the Dirichlet concentration (0 for iid and files)
 */
public record ClientSplit(Kind kind, double alpha) {
    /** The forms of split. */
    public enum Kind { IID, DIRICHLET, QUANTITY, FILES }

    static final int MAX_DRAWS = 100;

    public ClientSplit {
        if (kind == null) throw new IllegalArgumentException("a client split needs a kind");
        boolean dirichlet = kind == Kind.DIRICHLET || kind == Kind.QUANTITY;
        if (dirichlet && !(alpha > 0 && Double.isFinite(alpha))) {
            throw new IllegalArgumentException("the " + kind.name().toLowerCase(Locale.ROOT) + " split's ALPHA must be a positive number, got " + alpha);
        }
        if (!dirichlet && alpha != 0) throw new IllegalArgumentException("the " + kind.name().toLowerCase(Locale.ROOT) + " split takes no ALPHA");
    }

    public static final ClientSplit IID = new ClientSplit(Kind.IID, 0);
    public static final ClientSplit FILES = new ClientSplit(Kind.FILES, 0);

    /** Parses {@code iid}, {@code dirichlet:ALPHA}, {@code quantity:ALPHA} or {@code files}. */
    public static ClientSplit parse(String s) {
        String t = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
        if (t.equals("iid")) return IID;
        if (t.equals("files")) return FILES;
        int colon = t.indexOf(':');
        String head = colon < 0 ? t : t.substring(0, colon);
        Kind kind = head.equals("dirichlet") ? Kind.DIRICHLET : head.equals("quantity") ? Kind.QUANTITY : null;
        if (kind == null || colon < 0) {
            throw new IllegalArgumentException("--split " + s + ": give iid, dirichlet:ALPHA, quantity:ALPHA or files");
        }
        double a;
        try {
            a = Double.parseDouble(t.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--split " + s + ": ALPHA must be a number, e.g. dirichlet:0.1");
        }
        if (!(a > 0 && Double.isFinite(a))) throw new IllegalArgumentException("--split " + s + ": ALPHA must be positive");
        return new ClientSplit(kind, a);
    }

    /** The form as {@link #parse} reads it. */
    public String label() {
        return switch (kind) {
            case IID -> "iid";
            case FILES -> "files";
            case DIRICHLET -> "dirichlet:" + alpha;
            case QUANTITY -> "quantity:" + alpha;
        };
    }

    /**
     * The example indices of each of the K clients, each client's in ascending order (its data in file order).
     *
     * @param labels     every example's label (a class index when numClasses &gt; 2, 0/1 when 2)
     * @param numClasses the data's classes (0: regression targets, refused by the Dirichlet split)
     */
    public int[][] assign(float[] labels, int numClasses, int clients, long seed) {
        if (kind == Kind.FILES) throw new IllegalStateException("the files split gives each client its own file; there is nothing to assign");
        int n = labels.length;
        if (clients < 1) throw new IllegalArgumentException("--clients must be at least 1, got " + clients);
        if (n < clients) throw new IllegalArgumentException(clients + " clients need at least as many examples, the data has " + n);
        if (kind == Kind.DIRICHLET && numClasses < 2) {
            throw new IllegalArgumentException("the dirichlet split deals out classes, and the data has regression targets: use iid or quantity:ALPHA");
        }
        SplittableRandom rng = new SplittableRandom(seed);
        for (int draw = 0; draw < MAX_DRAWS; draw++) {
            int[][] parts = switch (kind) {
                case IID -> cut(permutation(n, rng), equalShares(clients));
                case QUANTITY -> cut(permutation(n, rng), Dirichlet.sample(rng, alpha, clients));
                case DIRICHLET -> byClass(labels, numClasses, clients, rng);
                case FILES -> throw new AssertionError();
            };
            if (allNonEmpty(parts)) {
                for (int[] p : parts) Arrays.sort(p);
                return parts;
            }
        }
        throw new IllegalArgumentException("the " + label() + " split left a client without examples in " + MAX_DRAWS
                + " draws: raise ALPHA or lower --clients (" + clients + " clients, " + n + " examples)");
    }

    private int[][] byClass(float[] labels, int numClasses, int clients, SplittableRandom rng) {
        int[] counts = new int[numClasses];
        for (float y : labels) counts[classOf(y, numClasses)]++;
        int[][] members = new int[numClasses][];
        for (int c = 0; c < numClasses; c++) members[c] = new int[counts[c]];
        int[] fill = new int[numClasses];
        for (int i = 0; i < labels.length; i++) {
            int c = classOf(labels[i], numClasses);
            members[c][fill[c]++] = i;
        }
        int[][][] pieces = new int[numClasses][][];
        int[] sizes = new int[clients];
        for (int c = 0; c < numClasses; c++) {
            pieces[c] = cut(shuffled(members[c], rng), Dirichlet.sample(rng, alpha, clients));
            for (int k = 0; k < clients; k++) sizes[k] += pieces[c][k].length;
        }
        int[][] out = new int[clients][];
        for (int k = 0; k < clients; k++) {
            out[k] = new int[sizes[k]];
            int at = 0;
            for (int c = 0; c < numClasses; c++) {
                System.arraycopy(pieces[c][k], 0, out[k], at, pieces[c][k].length);
                at += pieces[c][k].length;
            }
        }
        return out;
    }

    static int classOf(float label, int numClasses) {
        int c = (int) label;
        if (c != label || c < 0 || c >= numClasses) {
            throw new IllegalArgumentException("label " + label + " is not a class index in 0.." + (numClasses - 1));
        }
        return c;
    }

    /** 0..n−1 in a seeded random order (the server's sampling draws from it too). */
    static int[] permutation(int n, SplittableRandom rng) {
        return shuffled(identity(n), rng);
    }

    private static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    /** a shuffled in place (Fisher–Yates) and returned. */
    private static int[] shuffled(int[] a, SplittableRandom rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    private static double[] equalShares(int k) {
        double[] p = new double[k];
        Arrays.fill(p, 1.0 / k);
        return p;
    }

    /** a cut into consecutive pieces of sizes proportional to p (cumulative rounding, so the sizes add up to a.length). */
    static int[][] cut(int[] a, double[] p) {
        int[][] out = new int[p.length][];
        double cum = 0;
        int from = 0;
        for (int k = 0; k < p.length; k++) {
            cum += p[k];
            int to = k == p.length - 1 ? a.length : (int) Math.min(a.length, Math.round(cum * a.length));
            to = Math.max(to, from);
            out[k] = Arrays.copyOfRange(a, from, to);
            from = to;
        }
        return out;
    }

    private static boolean allNonEmpty(int[][] parts) {
        for (int[] p : parts) if (p.length == 0) return false;
        return true;
    }

    /** Every example's label of data, read in one pass. */
    public static float[] labels(InMemorySource data) throws IOException {
        float[] y = new float[data.size()];
        Batch b = new Batch(1024, data.schema());
        int at = 0;
        try (ExampleReader r = data.open()) {
            boolean more = true;
            while (more) {
                b.clear();
                while (!b.isFull() && (more = r.readInto(b))) {
                    // fill
                }
                System.arraycopy(b.labels, 0, y, at, b.size);
                at += b.size;
            }
        }
        return y;
    }

    /** Each client's examples of data, loaded into memory as a data set of its own. */
    public static InMemorySource[] shards(InMemorySource data, int[][] parts) throws IOException {
        InMemorySource[] out = new InMemorySource[parts.length];
        for (int k = 0; k < parts.length; k++) out[k] = InMemorySource.load(new Picked(data, parts[k], k));
        return out;
    }

    /**
     * The split as a small table: one row per client (the first {@code maxRows}, then a count of the rest), its
     * examples and its count of each class.
     */
    public static String table(InMemorySource[] shards, int maxRows) throws IOException {
        int classes = shards[0].schema().numClasses();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-8s %8s", "client", "examples"));
        if (classes >= 2) for (int c = 0; c < classes; c++) sb.append(String.format(Locale.ROOT, " %6s", "c" + c));
        sb.append('\n');
        int rows = Math.min(maxRows, shards.length);
        for (int k = 0; k < rows; k++) {
            sb.append(String.format(Locale.ROOT, "%-8d %8d", k, shards[k].size()));
            if (classes >= 2) {
                int[] counts = new int[classes];
                for (float y : labels(shards[k])) counts[classOf(y, classes)]++;
                for (int c : counts) sb.append(String.format(Locale.ROOT, " %6d", c));
            }
            sb.append('\n');
        }
        if (rows < shards.length) sb.append("... ").append(shards.length - rows).append(" more clients\n");
        return sb.toString();
    }

    /** The examples {@code picked} of data, in that order (a client's shard before it is loaded). */
    private record Picked(InMemorySource data, int[] picked, int client) implements DataSource {
        @Override
        public DataSchema schema() {
            return data.schema();
        }

        @Override
        public ExampleReader open() {
            return new ForwardingReader(data.open()) {
                private int next;

                @Override
                public boolean readInto(Batch b) {
                    if (next >= picked.length) return false;
                    data.copyInto(picked[next++], 1, b);
                    return true;
                }
            };
        }

        @Override
        public String describe() {
            return "client " + client + " of " + data.describe();
        }
    }
}
