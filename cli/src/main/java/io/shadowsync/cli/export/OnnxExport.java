package io.shadowsync.cli.export;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.shadowsync.api.TrainedModel;
import io.shadowsync.cli.export.proto.Onnx.AttributeProto;
import io.shadowsync.cli.export.proto.Onnx.GraphProto;
import io.shadowsync.cli.export.proto.Onnx.ModelProto;
import io.shadowsync.cli.export.proto.Onnx.NodeProto;
import io.shadowsync.cli.export.proto.Onnx.OperatorSetIdProto;
import io.shadowsync.cli.export.proto.Onnx.TensorProto;
import io.shadowsync.cli.export.proto.Onnx.TensorShapeProto;
import io.shadowsync.cli.export.proto.Onnx.TypeProto;
import io.shadowsync.cli.export.proto.Onnx.ValueInfoProto;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.model.LrSpec;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.nn.Activation;
import io.shadowsync.nn.ParameterSet;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A trained model as an ONNX graph (opset {@value #OPSET}, IR version {@value #IR_VERSION}) that computes what
 * {@code predict} writes, with every parameter as an initializer. Inputs and outputs per model (docs/export.md):
 * <ul>
 *   <li>mlp: {@code features} float [N, inputs] → {@code scores}: float [N] (binary: the probability of label 1;
 *       regression: the prediction) or [N, classes] (class probabilities, softmax);
 *   <li>lr: {@code rows} int64 [N, K] and {@code values} float [N, K], each example's hashed feature rows
 *       ({@link LrFeatures}) and their values, padded with value 0 → {@code scores} float [N];
 *   <li>dlrm: {@code dense} float [N, numDense] and {@code cat} int64 [N, numCat], the raw ids read unsigned
 *       (0 ≤ id &lt; 2^32; the graph takes them modulo the table rows) → {@code scores} float [N].
 * </ul>
 */
public final class OnnxExport {
    public static final int OPSET = 13;
    public static final int IR_VERSION = 7;
    private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE, INT64 = TensorProto.DataType.INT64_VALUE;
    /** A protobuf message (and so an ONNX file without external data) is at most 2 GiB. */
    private static final long MAX_BYTES = Integer.MAX_VALUE - (1 << 20);

    private final GraphProto.Builder g = GraphProto.newBuilder();
    private long written;
    private int names;

    private OnnxExport() {
    }

    /** The ONNX model of m; throws IllegalArgumentException when its parameters exceed what one ONNX file holds. */
    public static ModelProto of(TrainedModel m, String producerVersion) {
        OnnxExport x = new OnnxExport();
        String kind = m.spec().kind();
        // if/else on the spec's type: the three model kinds have three different graphs
        if (m.spec() instanceof MlpSpec s) x.mlp(s, m.model().dense());
        else if (m.spec() instanceof LrSpec s) x.lr(s, m.model().dense(), table(m, 0));
        else if (m.spec() instanceof DlrmSpec s) x.dlrm(s, m.model().dense(), m);
        else throw new IllegalArgumentException("a " + kind + " model cannot be exported to ONNX");
        x.g.setName("shadowsync_" + kind);
        return ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setProducerName("shadowsync")
                .setProducerVersion(producerVersion)
                .setDocString("shadowsync " + kind + " model: " + m.spec())
                .setGraph(x.g)
                .build();
    }

    private static float[] table(TrainedModel m, int t) {
        float[] w = m.tables() == null ? null : m.tables().localTable(t);
        if (w == null) throw new IllegalArgumentException("embedding table " + t + " is not held in this process");
        return w;
    }

    // scores = out(stack(features))
    private void mlp(MlpSpec s, ParameterSet p) {
        input("features", FLOAT, -1, s.inputs());
        String h = stack("features", p, "layers", s.hidden().length + 1, Activation.of(s.activation()), false);
        switch (s.task()) {
            case "multiclass" -> {
                node("Softmax", List.of(h), "scores", intAttr("axis", 1));
                output("scores", -1, s.outputs());
            }
            case "binary" -> {
                node("Sigmoid", List.of(h), "sig");
                squeeze("sig", "scores");
                output("scores", -1);
            }
            default -> {
                squeeze(h, "scores");
                output("scores", -1);
            }
        }
    }

    // scores = σ(bias + Σ_k values[:, k] · w[rows[:, k]])
    private void lr(LrSpec s, ParameterSet p, float[] w) {
        input("rows", INT64, -1, -1);
        input("values", FLOAT, -1, -1);
        floats("w", w, 0, w.length, w.length);
        floats("bias", p.data(), p.view("bias").offset(), 1, 1);
        ints("axis1", 1);
        node("Gather", List.of("w", "rows"), "picked");
        node("Mul", List.of("picked", "values"), "weighted");
        node("ReduceSum", List.of("weighted", "axis1"), "summed", intAttr("keepdims", 0));
        node("Add", List.of("summed", "bias"), "logit");
        node("Sigmoid", List.of("logit"), "scores");
        output("scores", -1);
    }

    // bot = bottom(dense); e_f = emb[cat_f mod rows + f·rows]; t = [bot, e_0..]; z = tril(t·tᵀ, −1); scores = σ(top([bot, z]))
    private void dlrm(DlrmSpec s, ParameterSet p, TrainedModel m) {
        int nc = s.numCat(), d = s.embDim(), f = nc + 1;
        long rows = s.embRows();
        input("dense", FLOAT, -1, s.numDense());
        input("cat", INT64, -1, nc);
        String bot = stack("dense", p, "bottom", s.bottom().length + 1, Activation.RELU, true);
        // the tables as one [numCat·rows × D] initializer, table f from row f·rows (the PyTorch peer's layout): the
        // tables' bytes joined without a copy of the whole
        ByteString emb = ByteString.EMPTY;
        for (int t = 0; t < nc; t++) {
            float[] w = table(m, t);
            emb = emb.concat(bytes(w, 0, w.length));
        }
        g.addInitializer(TensorProto.newBuilder().setName("emb").setDataType(FLOAT).addDims(nc * rows).addDims(d).setRawData(emb));
        long[] offsets = new long[nc];
        for (int t = 0; t < nc; t++) offsets[t] = t * rows;
        ints("rows", rows);
        ints("offsets", offsets);
        node("Mod", List.of("cat", "rows"), "row_in_table");
        node("Add", List.of("row_in_table", "offsets"), "row");
        node("Gather", List.of("emb", "row"), "vectors"); // [N, nc, D]
        ints("axis1", 1);
        node("Unsqueeze", List.of(bot, "axis1"), "bot3"); // [N, 1, D]
        node("Concat", List.of("bot3", "vectors"), "t", intAttr("axis", 1)); // [N, F, D]
        node("Transpose", List.of("t"), "tt", intsAttr("perm", 0, 2, 1));
        node("MatMul", List.of("t", "tt"), "gram"); // [N, F, F]
        ints("gram_flat_shape", 0, (long) f * f);
        node("Reshape", List.of("gram", "gram_flat_shape"), "gram_flat");
        // PyTorch tril_indices(F, F, offset=-1) order: i = 1..F−1, j = 0..i−1 (DotInteraction)
        long[] pairs = new long[f * (f - 1) / 2];
        for (int i = 1, k = 0; i < f; i++) {
            for (int j = 0; j < i; j++) pairs[k++] = (long) i * f + j;
        }
        ints("pairs", pairs);
        node("Gather", List.of("gram_flat", "pairs"), "z", intAttr("axis", 1));
        node("Concat", List.of(bot, "z"), "top_in", intAttr("axis", 1));
        String logit = stack("top_in", p, "top", s.top().length + 1, Activation.RELU, false);
        node("Sigmoid", List.of(logit), "sig");
        squeeze("sig", "scores");
        output("scores", -1);
    }

    /** Gemm + activation per layer of the stack prefix.0 .. prefix.(depth−1); returns the name of its output. */
    private String stack(String in, ParameterSet p, String prefix, int depth, Activation act, boolean activateLast) {
        String x = in;
        for (int l = 0; l < depth; l++) {
            String name = prefix + "." + l;
            ParameterSet.View w = p.view(name + ".weight"), b = p.view(name + ".bias");
            floats(name + ".weight", p.data(), w.offset(), w.size(), w.shape()[0], w.shape()[1]);
            floats(name + ".bias", p.data(), b.offset(), b.size(), b.shape()[0]);
            String y = name + ".out";
            node("Gemm", List.of(x, name + ".weight", name + ".bias"), y, intAttr("transB", 1));
            if (l < depth - 1 || activateLast) {
                String a = name + ".act";
                node(switch (act) {
                    case RELU -> "Relu";
                    case SIGMOID -> "Sigmoid";
                    case TANH -> "Tanh";
                }, List.of(y), a);
                y = a;
            }
            x = y;
        }
        return x;
    }

    private void squeeze(String in, String out) {
        if (g.getInitializerList().stream().noneMatch(t -> t.getName().equals("axis1"))) ints("axis1", 1);
        node("Squeeze", List.of(in, "axis1"), out);
    }

    private void node(String op, List<String> inputs, String output, AttributeProto... attrs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(op + "_" + names++).addAllInput(inputs).addOutput(output);
        for (AttributeProto a : attrs) n.addAttribute(a);
        g.addNode(n);
    }

    private static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    private static AttributeProto intsAttr(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) a.addInts(x);
        return a.build();
    }

    private void floats(String name, float[] data, int off, int n, long... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(FLOAT).setRawData(bytes(data, off, n));
        for (long d : dims) t.addDims(d);
        g.addInitializer(t);
    }

    // data[off, off + n) as little-endian bytes, counted against the 2 GiB a file holds; wrapped, not copied again
    private ByteString bytes(float[] data, int off, int n) {
        written += 4L * n;
        if (written > MAX_BYTES) throw tooBig(written);
        ByteBuffer buf = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(data, off, n);
        return UnsafeByteOperations.unsafeWrap(buf.array());
    }

    private void ints(String name, long... v) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(INT64).addDims(v.length);
        for (long x : v) t.addInt64Data(x);
        g.addInitializer(t);
    }

    private static IllegalArgumentException tooBig(long bytes) {
        return new IllegalArgumentException("the model's parameters take " + (bytes >> 20) + " MiB, more than the 2 GiB one ONNX file holds without external data (which export does not write); export it as safetensors instead");
    }

    private void input(String name, int type, long... dims) {
        g.addInput(value(name, type, dims));
    }

    private void output(String name, long... dims) {
        g.addOutput(value(name, FLOAT, dims));
    }

    // dims < 0: a symbolic dimension ("N" for the first, the batch; "K" for the features per example)
    private static ValueInfoProto value(String name, int type, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        List<String> symbols = new ArrayList<>(List.of("N", "K"));
        for (long d : dims) {
            shape.addDim(d >= 0 ? TensorShapeProto.Dimension.newBuilder().setDimValue(d) : TensorShapeProto.Dimension.newBuilder().setDimParam(symbols.remove(0)));
        }
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape))).build();
    }
}
