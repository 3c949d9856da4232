package io.shadowsync.cli.export;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.shadowsync.api.TrainedModel;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.model.LrSpec;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.nn.ParameterSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A trained model's parameters as a safetensors file: an 8-byte little-endian header length, a JSON header (each
 * tensor's dtype {@code F32}, shape and {@code data_offsets} into the data, plus {@code __metadata__}), padded
 * with spaces to a multiple of 8 bytes, then the tensors' little-endian floats one after another. Names and
 * shapes are those of the PyTorch peer's {@code state_dict} (bench/peers/torch_bench.py):
 * <ul>
 *   <li>mlp: {@code net.(2l).weight [out, in]}, {@code net.(2l).bias [out]} (the peer's nn.Sequential puts an
 *       activation module between layers);
 *   <li>lr: {@code w.weight [2^hashBits, 1]}, {@code bias [1]};
 *   <li>dlrm: {@code emb.weight [numCat·rows, D]} (table f from row f·rows), {@code bot.(2l).*}, {@code top.(2l).*}.
 * </ul>
 */
public final class SafetensorsExport {
    /** One tensor: its name, shape and the floats it takes from data[off, off + size). */
    public record Tensor(String name, long[] shape, float[] data, int off, int size) {
    }

    private SafetensorsExport() {
    }

    /** The tensors of m, in file order, named as the peer's state_dict. */
    public static List<Tensor> tensors(TrainedModel m) {
        List<Tensor> out = new ArrayList<>();
        ParameterSet p = m.model().dense();
        if (m.spec() instanceof MlpSpec s) {
            linears(out, p, "layers", "net", s.hidden().length + 1);
        } else if (m.spec() instanceof LrSpec s) {
            float[] w = m.tables().localTable(0);
            out.add(new Tensor("w.weight", new long[] {1L << s.hashBits(), 1}, w, 0, w.length));
            out.add(new Tensor("bias", new long[] {1}, p.data(), p.view("bias").offset(), 1));
        } else if (m.spec() instanceof DlrmSpec s) {
            // the tables one after another form the peer's one [numCat·rows × D] table; written table by table
            for (int t = 0; t < s.numCat(); t++) {
                float[] w = m.tables().localTable(t);
                out.add(new Tensor(t == 0 ? "emb.weight" : null, new long[] {s.numCat() * s.embRows(), s.embDim()}, w, 0, w.length));
            }
            linears(out, p, "bottom", "bot", s.bottom().length + 1);
            linears(out, p, "top", "top", s.top().length + 1);
        } else {
            throw new IllegalArgumentException("a " + m.spec().kind() + " model cannot be exported to safetensors");
        }
        return out;
    }

    private static void linears(List<Tensor> out, ParameterSet p, String ours, String peers, int depth) {
        for (int l = 0; l < depth; l++) {
            for (String part : new String[] {".weight", ".bias"}) {
                ParameterSet.View v = p.view(ours + "." + l + part);
                long[] shape = new long[v.shape().length];
                for (int i = 0; i < shape.length; i++) shape[i] = v.shape()[i];
                out.add(new Tensor(peers + "." + 2 * l + part, shape, p.data(), v.offset(), v.size()));
            }
        }
    }

    /**
     * Writes m to ch. A tensor with a null name continues the one before it (the DLRM tables, one peer tensor): its
     * floats follow, and the header entry covers them all.
     */
    public static void write(TrainedModel m, Map<String, String> metadata, WritableByteChannel ch) throws IOException {
        List<Tensor> ts = tensors(m);
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", metadata);
        long at = 0;
        Map<String, Object> open = null;
        for (Tensor t : ts) {
            if (t.name() != null) {
                open = new LinkedHashMap<>();
                open.put("dtype", "F32");
                open.put("shape", t.shape());
                open.put("data_offsets", new long[] {at, at});
                header.put(t.name(), open);
            }
            at += 4L * t.size();
            ((long[]) open.get("data_offsets"))[1] = at;
        }
        byte[] json = new ObjectMapper().writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        writeFully(ch, head.flip());
        ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        for (Tensor t : ts) {
            for (int i = 0; i < t.size(); ) {
                int n = Math.min(t.size() - i, buf.capacity() / 4);
                buf.clear();
                buf.asFloatBuffer().put(t.data(), t.off() + i, n);
                buf.limit(4 * n);
                writeFully(ch, buf);
                i += n;
            }
        }
    }

    private static void writeFully(WritableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }
}
