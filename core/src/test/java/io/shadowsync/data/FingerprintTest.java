package io.shadowsync.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DataSource#fingerprint: what tells data apart, for provenance and resumed checkpoints. */
class FingerprintTest {
    @TempDir
    Path dir;

    /** Two Criteo rows: a label, 13 integers (one of them 5), 26 categorical ids (the first a1). */
    private static final String ROWS = "1\t5" + "\t3".repeat(12) + "\ta1" + "\tb2".repeat(25) + "\n"
            + "0\t6" + "\t".repeat(12) + "\ta3" + "\tb4".repeat(25) + "\n";

    private Path write(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    /** Catches a fingerprint of the name or time (a copy would differ) or of the size alone (an edit would not). */
    @Test
    void aFileFingerprintFollowsItsContentNotItsName() throws Exception {
        Path a = write("a.tsv", ROWS), copy = write("copy.tsv", ROWS), edited = write("b.tsv", ROWS.replace("a1", "a9"));
        assertEquals(Files.size(a), Files.size(edited));
        assertEquals(DataSource.fileFingerprint(a), DataSource.fileFingerprint(copy));
        assertNotEquals(DataSource.fileFingerprint(a), DataSource.fileFingerprint(edited));
    }

    /** The form checkpoints have recorded as train-data: a change of it would refuse every existing checkpoint on --resume. */
    @Test
    void theFileFingerprintKeepsTheCheckpointForm() throws Exception {
        Path a = write("a.tsv", ROWS);
        CRC32C crc = new CRC32C();
        crc.update(Files.readAllBytes(a));
        assertEquals("size=" + Files.size(a) + " crc32c(first MiB)=" + Long.toHexString(crc.getValue()), DataSource.fileFingerprint(a));
    }

    /** Every reader of a file fingerprints that file; data loaded into memory keeps the fingerprint of where it came from. */
    @Test
    void sourcesFingerprintTheirFiles() throws Exception {
        Path a = write("a.tsv", ROWS), edited = write("b.tsv", ROWS.replace("\t5\t", "\t7\t"));
        CriteoTsvSource s = new CriteoTsvSource(a, false);
        assertEquals(DataSource.fileFingerprint(a), s.fingerprint());
        assertNotEquals(s.fingerprint(), new CriteoTsvSource(edited, false).fingerprint());
        assertEquals(s.fingerprint(), InMemorySource.load(s).fingerprint());
        Path svm = write("a.svm", "1 3:0.5 7:1\n0 2:1\n");
        assertEquals(DataSource.fileFingerprint(svm), new LibSvmSource(svm, 2, false, false).fingerprint());
        Path csv = write("a.csv", "x,y\n1,0\n2,1\n");
        assertEquals(DataSource.fileFingerprint(csv), new CsvSource(csv, "y", 2, false).fingerprint());
    }

    /** The default for sources without a file reads their examples: catches one that ignores features or labels. */
    @Test
    void theDefaultFingerprintFollowsTheExamples() throws Exception {
        DataSource base = examples(new float[] {1, 2, 3}, new float[] {0, 1, 0});
        assertEquals(base.fingerprint(), examples(new float[] {1, 2, 3}, new float[] {0, 1, 0}).fingerprint());
        assertNotEquals(base.fingerprint(), examples(new float[] {1, 2, 4}, new float[] {0, 1, 0}).fingerprint());
        assertNotEquals(base.fingerprint(), examples(new float[] {1, 2, 3}, new float[] {0, 1, 1}).fingerprint());
        assertNotEquals(base.fingerprint(), examples(new float[] {1, 2}, new float[] {0, 1}).fingerprint());
    }

    /** A source without a file: one dense feature per example. */
    private static DataSource examples(float[] x, float[] y) {
        float[][] dense = new float[x.length][];
        for (int i = 0; i < x.length; i++) dense[i] = new float[] {x[i]};
        return new ArraySource(dense, y, 2, -1);
    }
}
