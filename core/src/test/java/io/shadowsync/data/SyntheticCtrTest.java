package io.shadowsync.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticCtrTest {
    @TempDir
    Path dir;

    private static final SyntheticCtr.Config SMALL = new SyntheticCtr.Config(4000, 2000, 42, 1000);

    @Test
    void sameSeedSameFilesOtherSeedOtherFiles() throws IOException {
        SyntheticCtr.Summary a = new SyntheticCtr(SMALL).generate(dir.resolve("a"));
        SyntheticCtr.Summary b = new SyntheticCtr(SMALL).generate(dir.resolve("b"));
        new SyntheticCtr(new SyntheticCtr.Config(4000, 2000, 43, 1000)).generate(dir.resolve("c"));
        for (String name : new String[] {"train.tsv", "eval.tsv"}) {
            byte[] x = Files.readAllBytes(dir.resolve("a").resolve(name));
            assertArrayEquals(x, Files.readAllBytes(dir.resolve("b").resolve(name)), name);
            assertFalse(java.util.Arrays.equals(x, Files.readAllBytes(dir.resolve("c").resolve(name))), name);
        }
        assertEquals(a.evalTeacherLogloss(), b.evalTeacherLogloss());
        assertEquals(a.trainCtr(), b.trainCtr());
        assertEquals(List.of("train.tsv", "eval.tsv").stream().sorted().toList(),
                Files.list(dir.resolve("a")).map(p -> p.getFileName().toString()).sorted().toList(), "no temp files left");
    }

    @Test
    void criteoReaderReadsTheOutputBitExact() throws IOException {
        SyntheticCtr.Summary s = new SyntheticCtr(SMALL).generate(dir);
        Path train = dir.resolve("train.tsv");
        List<String> lines = Files.readAllLines(train);
        assertEquals(SMALL.trainRows(), lines.size());
        Batch b = TestFiles.readAll(new CriteoTsvSource(train, false), 256, lines.size());
        assertEquals(lines.size(), b.size);
        long positives = 0;
        for (int i = 0; i < b.size; i++) {
            String[] f = lines.get(i).split("\t", -1);
            assertEquals(40, f.length);
            assertEquals(Float.parseFloat(f[0]), b.labels[i]);
            positives += (long) b.labels[i];
            for (int k = 0; k < 13; k++) {
                long count = Long.parseLong(f[1 + k]);
                assertTrue(count >= 0);
                assertEquals(Float.floatToRawIntBits((float) Math.log1p(count)), Float.floatToRawIntBits(b.dense[i * 13 + k]));
            }
            for (int k = 0; k < 26; k++) {
                assertEquals(8, f[14 + k].length());
                int id = Integer.parseUnsignedInt(f[14 + k], 16);
                assertTrue(id >= 0 && id < SMALL.vocab());
                assertEquals(id, b.cat[i * 26 + k]);
            }
        }
        assertEquals(s.trainCtr(), (double) positives / b.size);
    }

    @Test
    void teacherBeatsTheConstantPredictorClearly() throws IOException {
        SyntheticCtr.Summary s = new SyntheticCtr(SMALL).generate(dir);
        assertTrue(s.trainCtr() > 0.05 && s.trainCtr() < 0.6, "CTR " + s.trainCtr());
        assertTrue(s.evalTeacherLogloss() < s.evalConstantLogloss() - 0.08, s.toString());
        assertTrue(s.trainTeacherLogloss() < s.trainConstantLogloss() - 0.08, s.toString());
        assertTrue(s.evalTeacherAuc() > 0.8 && s.evalTeacherAuc() < 0.97, s.toString());
        // the constant predictor's train logloss is the binary entropy of the train CTR
        double c = s.trainCtr();
        assertEquals(-(c * Math.log(c) + (1 - c) * Math.log(1 - c)), s.trainConstantLogloss(), 1e-12);
        // on eval it still predicts the train CTR
        double e = s.evalCtr();
        assertEquals(-(e * Math.log(c) + (1 - e) * Math.log(1 - c)), s.evalConstantLogloss(), 1e-12);
        assertTrue(s.rowsPerSecond() > 0);
    }

    @Test
    void countsAndRanksFollowTheirLaws() {
        CtrTeacher t = new CtrTeacher(1000, new SplitMix64(9));
        SplitMix64 rng = new SplitMix64(10);
        int[] counts = new int[13], ranks = new int[26], ids = new int[26];
        int n = 40_000;
        double sum = 0, sumSq = 0;
        int top25 = 0;
        for (int i = 0; i < n; i++) {
            t.sampleRow(rng, counts, ranks, ids);
            for (int c : counts) {
                double z = Math.log1p(c);
                sum += z;
                sumSq += z * z;
            }
            if (ranks[25] == 0) top25++;
        }
        double mean = sum / (13.0 * n), std = Math.sqrt(sumSq / (13.0 * n) - mean * mean);
        assertEquals(CtrTeacher.LOG1P_MEAN, mean, 0.01);
        assertEquals(CtrTeacher.LOG1P_STD, std, 0.01);
        double h = 0; // field 25 has exponent 1.30: P(rank 0) = 1 / Σ_r (r+1)^-1.3
        for (int r = 1; r <= 1000; r++) h += Math.pow(r, -1.3);
        assertEquals(1 / h, (double) top25 / n, 0.01);
    }

    @Test
    void guidedZipfSearchEqualsAPlainBinarySearch() {
        double[] cdf = new double[500];
        double s = 0;
        for (int r = 0; r < cdf.length; r++) cdf[r] = s += Math.pow(r + 1, -1.1);
        for (int r = 0; r < cdf.length; r++) cdf[r] /= s;
        cdf[cdf.length - 1] = 1;
        SplitMix64 rng = new SplitMix64(1);
        for (int t = 0; t < 20_000; t++) {
            double u = t < 2 ? t * 0.5 : rng.nextDouble();
            int plain = 0;
            while (cdf[plain] <= u) plain++;
            assertEquals(plain, CtrTeacher.zipfRank(cdf, u, 0, cdf.length - 1), "u=" + u);
        }
    }

    @Test
    void configRefusesBadValues() {
        assertThrows(IllegalArgumentException.class, () -> new SyntheticCtr.Config(0, 10, 1));
        assertThrows(IllegalArgumentException.class, () -> new SyntheticCtr.Config(10, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new SyntheticCtr.Config(10, 10, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new SyntheticCtr.Config(10, 10, 1, SyntheticCtr.MAX_VOCAB + 1));
        assertEquals(SyntheticCtr.DEFAULT_VOCAB, new SyntheticCtr.Config(10, 10, 1).vocab());
    }
}
