package io.shadowsync.net.coll;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.shadowsync.net.proto.RingFrame;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FrameMarshallerTest {
    /** The encoded bytes cut into pieces at random places, each its own buffer (some direct), as a transport would. */
    private static List<ByteBuffer> split(byte[] bytes, SplittableRandom rng) {
        List<ByteBuffer> out = new ArrayList<>();
        for (int at = 0; at < bytes.length; ) {
            int k = Math.min(bytes.length - at, 1 + rng.nextInt(rng.nextBoolean() ? 7 : 5000));
            ByteBuffer b = rng.nextBoolean() ? ByteBuffer.allocateDirect(k + 3) : ByteBuffer.allocate(k + 3);
            b.position(3); // a buffer's readable part need not start at 0
            b.put(bytes, at, k).flip().position(3);
            out.add(b);
            at += k;
        }
        return out;
    }

    @Test
    void decodesWhatProtobufEncodesHoweverTheBytesAreSplit() throws IOException {
        SplittableRandom rng = new SplittableRandom(7);
        for (int trial = 0; trial < 300; trial++) {
            int len = trial % 5 == 0 ? 0 : rng.nextInt(3000);
            float[] x = new float[len];
            for (int i = 0; i < len; i++) x[i] = (float) rng.nextGaussian();
            ByteBuffer le = ByteBuffer.allocate(4 * len).order(ByteOrder.LITTLE_ENDIAN);
            le.asFloatBuffer().put(x);
            RingFrame.Builder b = RingFrame.newBuilder().setSeq(rng.nextLong(1L << 40)).setOpcode(1 + rng.nextInt(4))
                    .setTotal(rng.nextInt(Integer.MAX_VALUE)).setExtra(rng.nextInt(3) - 1).setData(ByteString.copyFrom(le.array()));
            if (trial % 7 == 0) b.setGroup("g-" + trial).setFromRank(rng.nextInt(9)).setToRank(rng.nextInt(9)).setSize(9);
            if (trial % 11 == 0) b.setAbort("rank 3 at h:1 failed: ü " + trial);
            RingFrame want = b.build();

            FrameMarshaller.Received got = FrameMarshaller.decode(split(want.toByteArray(), rng), null);
            assertEquals(want.toBuilder().clearData().build(), got.header());
            assertEquals(4 * len, got.dataBytes());
            float[] back = new float[len + 2];
            got.copyFloats(io.shadowsync.comm.Codec.FLOAT32, back, 1);
            float[] inner = new float[len];
            System.arraycopy(back, 1, inner, 0, len);
            assertArrayEquals(x, inner, "trial " + trial);
            assertEquals(0f, back[0]);
            assertEquals(0f, back[len + 1]);
        }
    }

    @Test
    void refusesTruncatedFrames() {
        byte[] whole = RingFrame.newBuilder().setSeq(5).setOpcode(1).setData(ByteString.copyFrom(new byte[40])).build().toByteArray();
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 3);
        assertThrows(IOException.class, () -> FrameMarshaller.decode(List.of(ByteBuffer.wrap(cut)), null));
        assertThrows(IOException.class, () -> FrameMarshaller.decode(List.of(ByteBuffer.wrap(new byte[] {(byte) 0x80})), null));
    }
}
