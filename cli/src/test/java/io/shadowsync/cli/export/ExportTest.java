package io.shadowsync.cli.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shadowsync.api.Example;
import io.shadowsync.api.TrainedModel;
import io.shadowsync.cli.Main;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.model.LrSpec;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.nn.ParameterSet;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shadowsync export}: every model kind exported to ONNX scores the same rows in ONNX Runtime as in
 * shadowsync (within 1e-5), the safetensors file parses back to the model's parameters under the peer's names, and
 * bad input is refused with exit 2 and nothing written.
 */
class ExportTest {
    @TempDir
    Path dir;

    // --- ONNX, scored in ONNX Runtime

    @Test
    void mlpOfEveryTaskAndActivationScoresAsPredict() throws Exception {
        Random r = new Random(1);
        for (MlpSpec s : List.of(new MlpSpec(7, new int[] {9, 5}, 4, "relu", "multiclass"),
                new MlpSpec(7, new int[] {6}, 1, "tanh", "binary"),
                new MlpSpec(7, new int[] {}, 1, "sigmoid", "binary"),
                new MlpSpec(7, new int[] {8, 8, 3}, 1, "sigmoid", "regression"))) {
            TrainedModel m = model(s, 11);
            List<Example> rows = new ArrayList<>();
            float[] x = new float[13 * 7];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian() * 2;
            for (int b = 0; b < 13; b++) rows.add(Example.ofDense(java.util.Arrays.copyOfRange(x, b * 7, (b + 1) * 7)));
            try (OrtSession ort = session(m)) {
                OrtEnvironment env = OrtEnvironment.getEnvironment();
                float[] got = run(ort, Map.of("features", OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {13, 7})),
                        s.task().equals("multiclass") ? new long[] {13, 4} : new long[] {13});
                assertClose(expected(m, rows), got, s.toString());
            }
        }
    }

    @Test
    void logisticRegressionOnHashedFeaturesScoresAsPredict() throws Exception {
        Random r = new Random(2);
        for (LrSpec s : List.of(new LrSpec(10, 3, 2, true), new LrSpec(12, 4, 3, false))) {
            TrainedModel m = model(s, 12);
            List<Example> rows = new ArrayList<>();
            for (int b = 0; b < 17; b++) {
                float[] d = new float[s.numDense()];
                for (int f = 0; f < d.length; f++) d[f] = r.nextFloat() * 70 - 3; // every bucket, negatives to bucket 0
                int[] c = new int[s.numCat()];
                for (int f = 0; f < c.length; f++) c[f] = r.nextInt(); // negative ints are read unsigned
                int ns = s.sparse() ? r.nextInt(5) : 0; // ragged: shorter examples are padded
                int[] si = new int[ns];
                float[] sv = new float[ns];
                for (int j = 0; j < ns; j++) {
                    si[j] = r.nextInt(100_000);
                    sv[j] = (float) r.nextGaussian();
                }
                rows.add(new Example(d, c, si, sv));
            }
            LrFeatures in = LrFeatures.of(s, rows);
            try (OrtSession ort = session(m)) {
                OrtEnvironment env = OrtEnvironment.getEnvironment();
                long[] shape = {in.n(), in.k()};
                float[] got = run(ort, Map.of("rows", OnnxTensor.createTensor(env, LongBuffer.wrap(in.rows()), shape),
                        "values", OnnxTensor.createTensor(env, FloatBuffer.wrap(in.values()), shape)), new long[] {in.n()});
                assertClose(expected(m, rows), got, s.toString());
            }
        }
    }

    @Test
    void dlrmWithTablesAndInteractionScoresAsPredict() throws Exception {
        Random r = new Random(3);
        DlrmSpec s = new DlrmSpec(5, 4, 37, 6, new int[] {7}, new int[] {9, 4});
        TrainedModel m = model(s, 13);
        int n = 19;
        float[] x = new float[n * 5];
        long[] cat = new long[n * 4];
        List<Example> rows = new ArrayList<>();
        for (int b = 0; b < n; b++) {
            float[] d = new float[5];
            int[] c = new int[4];
            for (int f = 0; f < 5; f++) x[b * 5 + f] = d[f] = (float) r.nextGaussian();
            for (int f = 0; f < 4; f++) {
                c[f] = r.nextInt(); // raw ids, negative ones read unsigned as the model reads them
                cat[b * 4 + f] = c[f] & 0xffffffffL;
            }
            rows.add(Example.of(d, c));
        }
        try (OrtSession ort = session(m)) {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            float[] got = run(ort, Map.of("dense", OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {n, 5}),
                    "cat", OnnxTensor.createTensor(env, LongBuffer.wrap(cat), new long[] {n, 4})), new long[] {n});
            assertClose(expected(m, rows), got, s.toString());
        }
    }

    // --- safetensors, parsed back

    @Test
    void safetensorsHoldTheParametersUnderThePeersNames() throws Exception {
        DlrmSpec dlrm = new DlrmSpec(3, 2, 11, 4, new int[] {5}, new int[] {6});
        Map<ModelSpec, Map<String, String>> names = Map.of(
                new MlpSpec(6, new int[] {5, 4}, 3, "tanh", "multiclass"),
                Map.of("net.0.weight", "layers.0.weight", "net.0.bias", "layers.0.bias", "net.2.weight", "layers.1.weight",
                        "net.2.bias", "layers.1.bias", "net.4.weight", "layers.2.weight", "net.4.bias", "layers.2.bias"),
                new LrSpec(8, 2, 1, false), Map.of("w.weight", "table 0", "bias", "bias"),
                dlrm, Map.of("emb.weight", "tables", "bot.0.weight", "bottom.0.weight", "bot.0.bias", "bottom.0.bias",
                        "bot.2.weight", "bottom.1.weight", "bot.2.bias", "bottom.1.bias", "top.0.weight", "top.0.weight",
                        "top.0.bias", "top.0.bias", "top.2.weight", "top.1.weight", "top.2.bias", "top.1.bias"));
        for (Map.Entry<ModelSpec, Map<String, String>> e : names.entrySet()) {
            TrainedModel m = model(e.getKey(), 14);
            Path model = save(m), out = dir.resolve(e.getKey().kind() + ".safetensors");
            assertEquals(0, cli("export", "--model-file", model.toString(), "--format", "safetensors", "--out", out.toString()));
            ByteBuffer file = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
            long headerLen = file.getLong(0);
            JsonNode header = new ObjectMapper().readTree(new String(Files.readAllBytes(out), 8, (int) headerLen, StandardCharsets.UTF_8));
            Map<String, float[]> tensors = new HashMap<>();
            long at = 0;
            int dataStart = 8 + (int) headerLen;
            List<Map.Entry<String, JsonNode>> entries = new ArrayList<>();
            for (Map.Entry<String, JsonNode> t : header.properties()) {
                if (!t.getKey().equals("__metadata__")) entries.add(t);
            }
            entries.sort((a, b) -> Long.compare(a.getValue().get("data_offsets").get(0).asLong(), b.getValue().get("data_offsets").get(0).asLong()));
            for (Map.Entry<String, JsonNode> t : entries) {
                JsonNode v = t.getValue();
                assertEquals("F32", v.get("dtype").asText(), t.getKey());
                long begin = v.get("data_offsets").get(0).asLong(), end = v.get("data_offsets").get(1).asLong();
                assertEquals(at, begin, t.getKey() + " starts where the tensor before it ends");
                long elems = 1;
                for (JsonNode d : v.get("shape")) elems *= d.asLong();
                assertEquals(4 * elems, end - begin, t.getKey() + ": offsets span its shape's floats");
                float[] f = new float[(int) elems];
                file.slice(dataStart + (int) begin, (int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
                tensors.put(t.getKey(), f);
                at = end;
            }
            assertEquals(file.capacity() - dataStart, at, "the data ends with the last tensor");
            assertEquals(e.getValue().keySet(), tensors.keySet(), e.getKey().kind());
            for (Map.Entry<String, String> n : e.getValue().entrySet()) {
                assertArrayEquals(ours(m, n.getValue()), tensors.get(n.getKey()), e.getKey().kind() + " " + n.getKey() + " holds " + n.getValue());
            }
        }
    }

    // --- bad input

    @Test
    void badInputIsRefusedWithExit2AndNothingWritten() throws Exception {
        Path model = save(model(new MlpSpec(3, new int[] {}, 2, "relu", "multiclass"), 1));
        Path out = dir.resolve("m.onnx");
        StringWriter err = new StringWriter();
        assertEquals(2, cli(err, "export", "--model-file", model.toString(), "--format", "tflite", "--out", out.toString()));
        assertTrue(err.toString().contains("tflite"), err.toString());
        Path notOurs = dir.resolve("not-a-model.bin");
        Files.writeString(notOurs, "hello, I am not a model\n");
        err = new StringWriter();
        assertEquals(2, cli(err, "export", "--model-file", notOurs.toString(), "--format", "onnx", "--out", out.toString()));
        assertTrue(err.toString().contains(notOurs.toString()), err.toString());
        err = new StringWriter();
        Path missing = dir.resolve("no-such-dir").resolve("m.onnx");
        assertEquals(2, cli(err, "export", "--model-file", model.toString(), "--format", "onnx", "--out", missing.toString()));
        assertTrue(err.toString().contains("does not exist"), err.toString());
        assertFalse(Files.exists(out) || Files.exists(missing.getParent()), "nothing is written for bad input");
    }

    // --- helpers

    /** A model of spec s with seeded random dense parameters and tables (LR's zero-initialised table too). */
    private static TrainedModel model(ModelSpec s, long seed) {
        Model m = s.build();
        m.initDense(seed);
        Random r = new Random(seed);
        float[] p = m.dense().data();
        for (int i = 0; i < p.length; i++) p[i] += (float) r.nextGaussian() * 0.1f; // non-zero biases too
        long[][] shapes = m.embeddingShapes();
        LocalEmbeddingStore tables = new LocalEmbeddingStore(shapes, new float[shapes.length], seed, new EmbeddingOptimizerSpec("sgd", 0.01));
        for (int t = 0; t < shapes.length; t++) {
            float[] w = tables.table(t);
            for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.3f;
        }
        return new TrainedModel(m, tables, null);
    }

    private Path save(TrainedModel m) throws Exception {
        Path f = Files.createTempFile(dir, m.spec().kind(), ".model");
        m.save(f);
        return f;
    }

    /** Exports m to ONNX through the command line and opens it in ONNX Runtime. */
    private OrtSession session(TrainedModel m) throws Exception {
        Path model = save(m), out = Files.createTempFile(dir, m.spec().kind(), ".onnx");
        assertEquals(0, cli("export", "--model-file", model.toString(), "--format", "onnx", "--out", out.toString()));
        return OrtEnvironment.getEnvironment().createSession(out.toString(), new OrtSession.SessionOptions());
    }

    private static float[] run(OrtSession s, Map<String, OnnxTensor> inputs, long[] shape) throws Exception {
        try (OrtSession.Result r = s.run(inputs)) {
            OnnxTensor t = (OnnxTensor) r.get("scores").orElseThrow();
            assertArrayEquals(shape, t.getInfo().getShape(), "shape of the scores");
            FloatBuffer fb = t.getFloatBuffer();
            float[] out = new float[fb.remaining()];
            fb.get(out);
            return out;
        } finally {
            for (OnnxTensor t : inputs.values()) t.close();
        }
    }

    private static float[] expected(TrainedModel m, List<Example> rows) {
        float[][] per = m.predict(rows);
        int k = m.outputsPerExample();
        float[] flat = new float[per.length * k];
        for (int i = 0; i < per.length; i++) System.arraycopy(per[i], 0, flat, i * k, k);
        return flat;
    }

    private static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        double spread = 0;
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5, what + ": score " + i);
            spread = Math.max(spread, Math.abs(want[i] - want[0]));
        }
        assertTrue(spread > 1e-3, what + ": the rows must score differently for the comparison to mean anything");
    }

    /** Our tensor called name ("tables": DLRM's tables one after another; "table 0": LR's weights). */
    private static float[] ours(TrainedModel m, String name) {
        if (name.equals("table 0")) return m.tables().localTable(0);
        if (name.equals("tables")) {
            List<Float> all = new ArrayList<>();
            for (int t = 0; t < m.tables().numTables(); t++) for (float v : m.tables().localTable(t)) all.add(v);
            float[] f = new float[all.size()];
            for (int i = 0; i < f.length; i++) f[i] = all.get(i);
            return f;
        }
        ParameterSet.View v = m.model().dense().view(name);
        return java.util.Arrays.copyOfRange(m.model().dense().data(), v.offset(), v.offset() + v.size());
    }

    private static int cli(String... args) {
        return cli(new StringWriter(), args);
    }

    private static int cli(StringWriter err, String... args) {
        return Main.run(args, new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
    }
}
