package io.shadowsync.data;

import static io.shadowsync.data.TestFiles.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The class count of LibSVM and CSV data, read off its labels; and the labels that settle nothing. */
class ClassInferenceTest {
    @TempDir
    Path dir;

    private ClassInference.Result csv(String labels) throws IOException {
        StringBuilder sb = new StringBuilder("x,y\n");
        for (String l : labels.split(" ")) sb.append("1,").append(l).append('\n');
        return ClassInference.infer(new CsvSource(write(dir, "d.csv", sb.toString()), "y", 0, false), false);
    }

    private ClassInference.Result libsvm(String labels) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (String l : labels.split(" ")) sb.append(l).append(" 1:0.5\n");
        return ClassInference.infer(new LibSvmSource(write(dir, "d.svm", sb.toString()), 0, false, false), true);
    }

    @Test
    void zeroOneIsBinary() throws IOException {
        ClassInference.Result r = csv("0 1 1 0");
        assertEquals(2, r.classes());
        assertEquals(2, r.seen());
        assertEquals(4, r.examples());
        assertNull(r.reason());
        assertEquals(2, csv("0 0 0").classes(), "one class seen is still a binary labelling");
    }

    @Test
    void integersZeroToNineAreTenClassesWhereverTheLargestComes() throws IOException {
        assertEquals(10, csv("3 0 1 2 4 5 6 7 8 9").classes());
        // the largest label on the last line: a reader that stopped early (a sample) would say fewer
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 10_000; i++) many.append(i % 3).append(' ');
        many.append("9");
        ClassInference.Result r = csv(many.toString());
        assertEquals(10, r.classes());
        assertEquals(4, r.seen(), "0, 1, 2 and 9 occur");
        assertEquals(10_001, r.examples());
        assertEquals(3, libsvm("0 1 2 2").classes());
    }

    @Test
    void minusOnePlusOneIsBinaryInLibSvmOnly() throws IOException {
        assertEquals(2, libsvm("-1 +1 1 -1").classes());
        assertTrue(csv("-1 1").reason().contains("-1"), "CSV has no -1/+1 labelling: -1 is no class index");
        assertTrue(libsvm("-1 1 2").reason().contains("mix -1"), libsvm("-1 1 2").reason());
    }

    @Test
    void fractionalNegativeOrHugeLabelsAreNotInferred() throws IOException {
        ClassInference.Result r = csv("0 1 0.37 1");
        assertEquals(-1, r.classes());
        assertTrue(r.reason().contains("0.37") && r.reason().contains("example 3"), r.reason());
        assertEquals(-1, csv("2 -3").classes());
        assertTrue(csv("1 1984").reason().contains("1984"), "a year is no class index");
        assertEquals(ClassInference.MAX_CLASSES, csv("0 " + (ClassInference.MAX_CLASSES - 1)).classes());
    }

    @Test
    void sourceMustBeOpenedAsRegression() throws IOException {
        Path f = write(dir, "b.csv", "x,y\n1,1\n");
        assertThrows(IllegalArgumentException.class, () -> ClassInference.infer(new CsvSource(f, "y", 2, false), false));
    }
}
