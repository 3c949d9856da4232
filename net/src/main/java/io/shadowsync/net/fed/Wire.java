package io.shadowsync.net.fed;

import com.google.protobuf.ByteString;
import io.shadowsync.fed.ClientUpload;
import io.shadowsync.net.proto.Blobs;
import io.shadowsync.net.proto.ChangedRows;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** Conversions between the round steps' arrays and their protobuf messages. Stateless. */
final class Wire {
    private Wire() {}

    /** One entry per slot, absent (null) entries marked. */
    static Blobs blobs(byte[][] a) {
        Blobs.Builder b = Blobs.newBuilder();
        for (byte[] x : a) {
            b.addData(x == null ? ByteString.EMPTY : ByteString.copyFrom(x));
            b.addPresent(x != null);
        }
        return b.build();
    }

    static byte[][] blobs(Blobs m) {
        if (m.getDataCount() != m.getPresentCount()) throw new IllegalArgumentException("a slot list of " + m.getDataCount() + " entries and " + m.getPresentCount() + " flags");
        byte[][] out = new byte[m.getDataCount()][];
        for (int i = 0; i < out.length; i++) if (m.getPresent(i)) out[i] = m.getData(i).toByteArray();
        return out;
    }

    static ByteString floats(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return ByteString.copyFrom(b.array());
    }

    static float[] floats(ByteString s) {
        if (s.size() % 4 != 0) throw new IllegalArgumentException("a float32 tensor of " + s.size() + " bytes");
        float[] out = new float[s.size() / 4];
        s.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    static ByteString ints(int[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(v);
        return ByteString.copyFrom(b.array());
    }

    static int[] ints(ByteString s) {
        if (s.size() % 4 != 0) throw new IllegalArgumentException("an int32 vector of " + s.size() + " bytes");
        int[] out = new int[s.size() / 4];
        s.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
        return out;
    }

    /** A client's changed rows of every table, as an upload carries them. */
    static List<ChangedRows> rows(ClientUpload.Rows[] rows) {
        List<ChangedRows> out = new ArrayList<>(rows.length);
        for (ClientUpload.Rows r : rows) out.add(ChangedRows.newBuilder().setIds(ints(r.ids())).setEncoded(ByteString.copyFrom(r.encoded())).build());
        return out;
    }

    static ClientUpload.Rows[] rows(List<ChangedRows> rows) {
        ClientUpload.Rows[] out = new ClientUpload.Rows[rows.size()];
        for (int t = 0; t < out.length; t++) out[t] = new ClientUpload.Rows(ints(rows.get(t).getIds()), rows.get(t).getEncoded().toByteArray());
        return out;
    }

    static ByteString longs(long[] v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(v);
        return ByteString.copyFrom(b.array());
    }

    static long[] longs(ByteString s) {
        if (s.size() % 8 != 0) throw new IllegalArgumentException("an int64 vector of " + s.size() + " bytes");
        long[] out = new long[s.size() / 8];
        s.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
        return out;
    }
}
