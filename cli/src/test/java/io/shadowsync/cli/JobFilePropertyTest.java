package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The YAML job file as {@code shadowsync train JOB.yaml} reads it ({@link Main#attachJobFile}, then picocli's parse
 * with the file's values as defaults), under generated and mutated input: a valid file gives every key its value;
 * any file either loads, with every value converted, or fails with a {@link UsageException} that names the file
 * (and the key, when one key is at fault) — never another exception, a picocli conversion error that forgets the
 * file, or a hang.
 */
class JobFilePropertyTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static Path root;

    @BeforeContainer
    static void makeRoot() throws IOException {
        root = Files.createTempDirectory("jobfile-prop");
    }

    @AfterContainer
    static void removeRoot() throws IOException {
        if (root == null || !Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    /** The options of the train command a job file may set, by key (long name without dashes). */
    private static Map<String, OptionSpec> keys() {
        Map<String, OptionSpec> keys = new LinkedHashMap<>();
        CommandLine train = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()))
                .getSubcommands().get("train");
        for (String k : JobFile.validKeys(train.getCommandSpec())) keys.put(k, train.getCommandSpec().findOption("--" + k));
        return keys;
    }

    /** One key's value: as YAML text (after "key:") and as the typed value the option must end up with. */
    record Entry(String key, String yaml, Object value) {}

    /** A valid value for the option's type, written in one of YAML's styles. */
    private static Arbitrary<Entry> entry(String key, Class<?> type) {
        Arbitrary<Integer> style = Arbitraries.integers().between(0, 2);
        if (type == int.class || type == Integer.class) {
            return Arbitraries.integers().between(-1000, 1_000_000).map(v -> new Entry(key, " " + v, v));
        }
        if (type == long.class || type == Long.class) {
            return Arbitraries.longs().between(-1_000_000_000_000L, 1_000_000_000_000L).map(v -> new Entry(key, " " + v, v));
        }
        if (type == double.class || type == Double.class) {
            Arbitrary<Double> d = Arbitraries.oneOf(Arbitraries.doubles().between(-10, 10).ofScale(4),
                    Arbitraries.longs().map(Double::longBitsToDouble).filter(Double::isFinite));
            return Combinators.combine(d, style).as((v, s) -> new Entry(key, " " + quote(Double.toString(v), s), v));
        }
        if (type == float.class || type == Float.class) {
            return Combinators.combine(Arbitraries.floats().between(-100, 100).ofScale(3), style)
                    .as((v, s) -> new Entry(key, " " + quote(Float.toString(v), s), v));
        }
        if (type == boolean.class || type == Boolean.class) {
            return Arbitraries.of(true, false).map(v -> new Entry(key, " " + v, v));
        }
        Arbitrary<String> word = Arbitraries.strings().withChars("abcdefghijklmnopqrstuvwxyz0123456789_.-").ofMaxLength(8).map(s -> "s" + s);
        if (type == String.class) {
            return Combinators.combine(word, style).as((v, s) -> new Entry(key, " " + quote(v, s), v));
        }
        if (type == Path.class) {
            return Combinators.combine(word, word, style).as((a, b, s) -> new Entry(key, " " + quote(a + "/" + b, s), Path.of(a + "/" + b)));
        }
        if (type == int[].class) {
            return Combinators.combine(Arbitraries.integers().between(1, 4096).list().ofMinSize(1).ofMaxSize(4), style).as((v, s) -> {
                int[] a = new int[v.size()];
                for (int i = 0; i < a.length; i++) a[i] = v.get(i);
                List<String> parts = new ArrayList<>();
                for (int x : a) parts.add(Integer.toString(x));
                String yaml = switch (s) {
                    case 0 -> " [" + String.join(", ", parts) + "]";
                    case 1 -> "\n  - " + String.join("\n  - ", parts);
                    default -> " " + (a.length == 1 ? parts.get(0) : "'" + String.join(",", parts) + "'");
                };
                return new Entry(key, yaml, a);
            });
        }
        throw new AssertionError("no generator for option --" + key + " of type " + type);
    }

    private static String quote(String s, int style) {
        return switch (style) {
            case 0 -> s;
            case 1 -> "'" + s + "'";
            default -> "\"" + s + "\"";
        };
    }

    /** A job file: some keys, each once, with comments, blank lines and a document marker here and there. */
    record Job(List<Entry> entries, boolean docStart, boolean comments, boolean crlf, boolean bom, boolean finalNewline) {
        String text() {
            String nl = crlf ? "\r\n" : "\n";
            StringBuilder sb = new StringBuilder();
            if (bom) sb.append('\uFEFF');
            if (comments) sb.append("# a job").append(nl);
            if (docStart) sb.append("---").append(nl);
            for (int i = 0; i < entries.size(); i++) {
                Entry e = entries.get(i);
                if (comments && i % 3 == 1) sb.append(nl).append("  # about ").append(e.key()).append(nl);
                sb.append(e.key()).append(':').append(e.yaml().replace("\n", nl));
                if (comments && i % 2 == 0 && !e.yaml().contains("\n")) sb.append("   # note");
                if (i < entries.size() - 1 || finalNewline) sb.append(nl);
            }
            return sb.toString();
        }
    }

    @Provide
    Arbitrary<Job> jobs() {
        Map<String, OptionSpec> keys = keys();
        List<Arbitrary<Entry>> each = new ArrayList<>();
        for (Map.Entry<String, OptionSpec> k : keys.entrySet()) each.add(entry(k.getKey(), k.getValue().type()));
        Arbitrary<List<Entry>> entries = Arbitraries.integers().between(0, each.size()).flatMap(n ->
                Arbitraries.shuffle(each).flatMap(shuffled -> Combinators.combine(shuffled.subList(0, n)).as(l -> l)));
        return Combinators.combine(entries, Arbitraries.of(true, false), Arbitraries.of(true, false),
                Arbitraries.of(true, false), Arbitraries.of(true, false), Arbitraries.of(true, false)).as(Job::new);
    }

    /** What loading a job file gave: the train command with the file's values in place, or the usage error. */
    record Loaded(CommandLine train, UsageException error) {}

    /**
     * Does what {@code shadowsync train JOB.yaml} does before training: attaches the job file, then parses the
     * arguments (which converts every value). Only a UsageException that names the file may come out of it.
     */
    private static Loaded load(Path job) {
        return assertTimeoutPreemptively(TIMEOUT, () -> {
            String[] args = {"train", job.toString()};
            CommandLine cl = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), args); // as Main.run
            try {
                Main.attachJobFile(cl, args);
            } catch (UsageException e) {
                assertTrue(e.getMessage().startsWith(job.toString()), "the error names the job file first: " + e.getMessage());
                return new Loaded(null, e);
            }
            cl.parseArgs(args);
            return new Loaded(cl.getSubcommands().get("train"), null);
        });
    }

    private static Path write(byte[] text) throws IOException {
        Path dir = Files.createTempDirectory(root, "t");
        return Files.write(dir.resolve("job.yaml"), text);
    }

    @Property(tries = 100)
    void aValidJobFileGivesEveryKeyItsValue(@ForAll("jobs") Job job) throws IOException {
        Path f = write(job.text().getBytes(StandardCharsets.UTF_8));
        Loaded l = load(f);
        assertFalse(l.error() != null, () -> "valid job file refused: " + l.error().getMessage() + "\n" + job.text());
        for (Entry e : job.entries()) {
            Object got = l.train().getCommandSpec().findOption("--" + e.key()).getValue();
            if (e.value() instanceof int[] a) assertArrayEquals(a, (int[]) got, e.key());
            else assertEquals(e.value(), got, "key '" + e.key() + "' from '" + e.yaml() + "'");
        }
    }

    /** YAML text that is odd as a value or a key: nulls, NaN/Inf, huge numbers, YAML 1.1 words, flow and block starts. */
    static final String[] TOKENS = {
        "", "~", "null", "NaN", ".nan", ".NaN", ".inf", "-.inf", "+.inf", "1e999", "-1e999", "1.7976931348623157E309",
        "4.9E-325", "99999999999999999999", "2147483648", "-2147483649", "9223372036854775808", "0x7fffffff", "0o17", "010",
        "1_000", "yes", "no", "on", "off", "True", "y", "[]", "[1, [2]]", "[1, {a: 2}]", "{}", "{a: 1}", "[", "{", "]", "}",
        "'", "\"", "'a", "&a 1", "*a", "*b", "!!binary aGk=", "!!str 5", "!!int x", "!!float y", "!!map {}", "!foo bar",
        "? x", "- 1", "|", ">", "|\n  text", "@", "`", "%", "%YAML 1.2", "\t", "\t1", "a: b", "[1, 2]", "\u0000", "\u0085",
        "\u2028", "\uFEFF", "\u00e9", "-0", "+1", "0.", ".5", "1,2,3", "1,,2", ",", "-", "--", "---", "...", "#", "a #b",
        "workers", "help", "version", "h", "--workers", "no-progress", "train", "hidden", "lr"
    };

    /** One edit of a job file's bytes; positions are taken modulo what is there. */
    record Edit(Kind kind, int at, int arg) {
        enum Kind {
            FLIP_BYTE, TRUNCATE, DUPLICATE_LINE, DELETE_LINE, SWAP_LINES, REPLACE_VALUE, REPLACE_KEY, INDENT, GARBAGE,
            CRLF, NO_FINAL_NEWLINE, BOM, SECOND_DOCUMENT, NESTED_VALUE
        }
    }

    @Provide
    Arbitrary<List<Edit>> edits() {
        return Combinators.combine(Arbitraries.of(Edit.Kind.class), Arbitraries.integers().between(0, 1 << 20),
                Arbitraries.integers().between(0, 1 << 20)).as(Edit::new).list().ofMinSize(1).ofMaxSize(3);
    }

    static byte[] apply(byte[] b, Edit e) {
        String text = new String(b, StandardCharsets.ISO_8859_1);
        List<String> lines = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
        int n = b.length, at = e.at(), arg = e.arg();
        String token = latin1(TOKENS[arg % TOKENS.length]);
        switch (e.kind()) {
            case FLIP_BYTE -> {
                if (n == 0) return b;
                byte[] c = b.clone();
                c[at % n] = (byte) arg;
                return c;
            }
            case TRUNCATE -> {
                return Arrays.copyOf(b, at % (n + 1));
            }
            case DUPLICATE_LINE -> lines.add(at % lines.size(), lines.get(at % lines.size()));
            case DELETE_LINE -> lines.remove(at % lines.size());
            case SWAP_LINES -> {
                int i = at % lines.size(), j = arg % lines.size();
                String li = lines.get(i);
                lines.set(i, lines.get(j));
                lines.set(j, li);
            }
            case REPLACE_VALUE, REPLACE_KEY, NESTED_VALUE -> {
                int i = at % lines.size();
                String line = lines.get(i);
                int colon = line.indexOf(':');
                if (colon < 0) return b;
                String v = e.kind() == Edit.Kind.NESTED_VALUE ? "\n  a: 1\n  b: [1]" : " " + token;
                lines.set(i, e.kind() == Edit.Kind.REPLACE_KEY ? token + line.substring(colon) : line.substring(0, colon + 1) + v);
            }
            case INDENT -> {
                int i = at % lines.size();
                lines.set(i, ((arg & 1) == 0 ? "  " : "\t") + lines.get(i));
            }
            case GARBAGE -> {
                SplittableRandom r = new SplittableRandom(arg);
                byte[] g = new byte[1 + r.nextInt(12)];
                for (int k = 0; k < g.length; k++) g[k] = (byte) r.nextInt(256);
                int p = at % (n + 1);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.write(b, 0, p);
                out.writeBytes(g);
                out.write(b, p, n - p);
                return out.toByteArray();
            }
            case CRLF -> {
                return text.replace("\n", "\r\n").getBytes(StandardCharsets.ISO_8859_1);
            }
            case NO_FINAL_NEWLINE -> {
                return text.stripTrailing().getBytes(StandardCharsets.ISO_8859_1);
            }
            case BOM -> {
                return ("\u00ef\u00bb\u00bf" + text).getBytes(StandardCharsets.ISO_8859_1);
            }
            case SECOND_DOCUMENT -> lines.add("---\n" + lines.get(at % lines.size()));
            default -> throw new AssertionError(e);
        }
        return String.join("\n", lines).getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The UTF-8 bytes of s as a Latin-1 string, so that non-ASCII tokens go in as UTF-8. */
    private static String latin1(String s) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    @Property(tries = 250)
    void anyJobFileLoadsOrFailsNamingTheFile(@ForAll("jobs") Job job, @ForAll("edits") List<Edit> edits) throws IOException {
        byte[] text = job.text().getBytes(StandardCharsets.UTF_8);
        for (Edit e : edits) text = apply(text, e);
        Path f = write(text);
        Loaded l = load(f);
        if (l.error() != null) return; // load() checked that it names the file
        for (OptionSpec o : l.train().getCommandSpec().options()) {
            Object v = o.getValue();
            if (v instanceof Double d) assertTrue(Double.isFinite(d), "--" + o.longestName() + " is " + d);
            if (v instanceof Float x) assertTrue(Float.isFinite(x), "--" + o.longestName() + " is " + x);
            if (v instanceof String s) assertFalse(s.equals("null"), o.longestName() + " took the text 'null' for a missing value");
        }
    }

    @Provide
    Arbitrary<Tuple.Tuple2<Job, Integer>> jobsWithABadValue() {
        return jobs().filter(j -> !j.entries().isEmpty()).flatMap(j ->
                Arbitraries.integers().between(0, j.entries().size() - 1).flatMap(i ->
                        Arbitraries.integers().between(0, TOKENS.length - 1).map(t -> {
                            List<Entry> es = new ArrayList<>(j.entries());
                            Entry e = es.get(i);
                            es.set(i, new Entry(e.key(), " " + TOKENS[t], null));
                            return Tuple.of(new Job(es, j.docStart(), false, j.crlf(), false, true), i);
                        })));
    }

    /**
     * One key's value replaced by odd text: either the file still loads (the text is a fine value for that key, and
     * a numeric one is finite), or the error names the file and that key — through {@link Main#run} too.
     */
    @Property(tries = 120)
    void aBadValueIsReportedWithItsKeyAndFile(@ForAll("jobsWithABadValue") Tuple.Tuple2<Job, Integer> bad) throws IOException {
        Job job = bad.get1();
        String key = job.entries().get(bad.get2()).key();
        Path f = write(job.text().getBytes(StandardCharsets.UTF_8));
        Loaded l = load(f);
        if (l.error() == null) {
            Object v = l.train().getCommandSpec().findOption("--" + key).getValue();
            if (v instanceof Double d) assertTrue(Double.isFinite(d), key + " is " + d);
            if (v instanceof Float x) assertTrue(Float.isFinite(x), key + " is " + x);
            return;
        }
        String m = l.error().getMessage();
        assertTrue(m.contains("'" + key + "'") || m.contains(f + ":"), "names the key '" + key + "' or a line of the file: " + m);
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new String[] {"train", f.toString()}, new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(Main.EXIT_BAD_INPUT, code, err.toString());
        assertEquals("shadowsync: " + m, err.toString().strip());
    }

    @Example
    void typeErrorsNullValuesAndNonFiniteNumbersNameTheKeyAndTheFile() throws IOException {
        String[][] cases = {
            {"workers: abc\n", "'workers'"},
            {"lr: NaN\n", "'lr'"},
            {"lr: .nan\n", ":1: "}, // Jackson refuses YAML's .nan and .inf while parsing: the line is named
            {"lr: 1e999\n", "'lr'"},
            {"idx-std: -Infinity\n", "'idx-std'"},
            {"examples: 99999999999999999999\n", "'examples'"},
            {"hidden: [64, x]\n", "'hidden'"},
            {"sync:\n", "'sync'"},
            {"train: ''\n", "'train'"},
            {"hidden: [64, ~]\n", "'hidden'"},
            {"model: ~\n", "'model'"},
        };
        for (String[] c : cases) {
            Path f = write(c[0].getBytes(StandardCharsets.UTF_8));
            Loaded l = load(f);
            assertNotNull(l.error(), c[0]);
            assertTrue(l.error().getMessage().startsWith(f + ":") && l.error().getMessage().contains(c[1]), l.error().getMessage());
        }
    }

    /** The command line cannot give a list option no values either; the job file says so with the key. */
    @Example
    void anEmptyListIsRefusedWithItsKey() throws IOException {
        Path f = write("bottom: []\n".getBytes(StandardCharsets.UTF_8));
        Loaded l = load(f);
        assertNotNull(l.error());
        assertEquals(f + ": key 'bottom' has an empty list", l.error().getMessage());
    }

    @Example
    void anEmptyDocumentIsAJobFileWithoutKeys() throws IOException {
        for (String text : new String[] {"", "# only a comment\n", "---\n", "# a job\n---\n", "\uFEFF---\n"}) {
            Loaded l = load(write(text.getBytes(StandardCharsets.UTF_8)));
            assertTrue(l.error() == null, () -> "'" + text + "': " + l.error().getMessage());
        }
    }

    @Example
    void duplicateKeysAndSecondDocumentsAreRefusedNotSilentlyDropped() throws IOException {
        Path dup = write("workers: 2\nmodel: lr\nworkers: 4\n".getBytes(StandardCharsets.UTF_8));
        Loaded l = load(dup);
        assertNotNull(l.error(), "a key given twice");
        assertTrue(l.error().getMessage().contains("workers"), l.error().getMessage());
        Path two = write("workers: 2\n---\nworkers: 4\n".getBytes(StandardCharsets.UTF_8));
        assertNotNull(load(two).error(), "a second YAML document");
    }

    @Example
    void unreadableFilesNameTheFile() throws IOException {
        Path notUtf8 = write(new byte[] {'m', 'o', 'd', 'e', 'l', ':', ' ', (byte) 0xff, (byte) 0xfe, '\n'});
        Loaded l = load(notUtf8);
        assertNotNull(l.error(), "bytes that are not UTF-8");
        Path dir = Files.createDirectories(root.resolve("dir.yaml"));
        Loaded d = load(dir);
        assertNotNull(d.error(), "a directory");
    }
}
