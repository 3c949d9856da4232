package io.shadowsync.data;

/** In-memory data for tests: example i has dense = {i, …} and label labels[i]; optionally fails at one index. */
public final class ArraySource implements DataSource {
    final float[][] dense;
    final float[] labels;
    final int failAt;
    final DataSchema schema;

    public ArraySource(float[][] dense, float[] labels, int numClasses, int failAt) {
        this.dense = dense;
        this.labels = labels;
        this.failAt = failAt;
        this.schema = new DataSchema(dense[0].length, 0, false, 0, numClasses);
    }

    /** n examples, dense[i] = {i}, label i % classes. */
    public static ArraySource counting(int n, int classes) {
        float[][] d = new float[n][1];
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            d[i][0] = i;
            y[i] = i % Math.max(classes, 2);
        }
        return new ArraySource(d, y, classes, -1);
    }

    @Override
    public DataSchema schema() {
        return schema;
    }

    @Override
    public String describe() {
        return "array:test";
    }

    @Override
    public ExampleReader open() {
        return new ExampleReader() {
            int next;

            @Override
            public DataSchema schema() {
                return schema;
            }

            @Override
            public boolean readInto(Batch b) {
                if (next == failAt) throw new DataException("array:test", next + 1, "broken on purpose");
                if (next >= labels.length) return false;
                int k = b.size;
                b.labels[k] = labels[next];
                System.arraycopy(dense[next], 0, b.dense, k * b.numDense, b.numDense);
                b.size = k + 1;
                next++;
                return true;
            }

            @Override
            public long skippedLines() {
                return 0;
            }

            @Override
            public void close() {
            }
        };
    }
}
