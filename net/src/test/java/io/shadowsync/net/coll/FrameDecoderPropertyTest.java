package io.shadowsync.net.coll;

import com.google.protobuf.InvalidProtocolBufferException;
import io.shadowsync.net.proto.RingFrame;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes the ring's own frame decoder, which parses the protobuf wire format straight from the transport's buffers:
 * for random bytes and mutated frames, split anywhere into buffers, it returns a frame or throws {@link IOException}
 * (which the marshaller turns into a status naming the malformed frame) — nothing else — and whenever both it and
 * protobuf's parser accept the bytes, they read the same header and data.
 */
class FrameDecoderPropertyTest {
    @Property(tries = 2000)
    void decodesLikeProtobufOrRefusesCleanly(@ForAll("frames") byte[] bytes, @ForAll long splitSeed) {
        FrameMarshaller.Received ours;
        try {
            ours = FrameMarshaller.decode(split(bytes, new Random(splitSeed)), null);
        } catch (IOException refused) {
            return;
        }
        RingFrame theirs;
        try {
            theirs = RingFrame.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            return; // e.g. a group name that is not UTF-8: protobuf refuses it, the ring then refuses the group by name
        }
        // unknown fields are skipped by both; protobuf keeps them aside, the ring has no use for them
        RingFrame known = theirs.toBuilder().clearData().setUnknownFields(com.google.protobuf.UnknownFieldSet.getDefaultInstance()).build();
        if (!ours.header().equals(known)) throw new AssertionError("header " + ours.header() + " vs protobuf's " + known);
        ByteBuffer data = ByteBuffer.allocate(theirs.getData().size());
        for (ByteBuffer b : ours.data()) data.put(b.duplicate());
        if (!java.util.Arrays.equals(data.array(), theirs.getData().toByteArray())) throw new AssertionError("data differs");
    }

    @Provide
    Arbitrary<byte[]> frames() {
        Arbitrary<byte[]> valid = Combinators.combine(Arbitraries.strings().alpha().ofMaxLength(8), Arbitraries.integers().between(0, 9),
                Arbitraries.longs().between(0, 1 << 20), Arbitraries.bytes().array(byte[].class).ofMaxSize(64))
                .as((group, rank, seq, data) -> RingFrame.newBuilder().setGroup(group).setFromRank(rank).setToRank(rank + 1).setSeq(seq)
                        .setOpcode(1).setTotal(data.length / 4).setSize(data.length / 4)
                        .setData(com.google.protobuf.ByteString.copyFrom(data)).build().toByteArray());
        Arbitrary<byte[]> mutated = Combinators.combine(valid, Arbitraries.integers().between(0, 1 << 16), Arbitraries.bytes(),
                Arbitraries.integers().between(0, 2)).as((b, at, v, kind) -> {
                    if (b.length == 0) return new byte[]{v};
                    int i = at % b.length;
                    if (kind == 0) {
                        byte[] c = b.clone();
                        c[i] ^= v == 0 ? 1 : v;
                        return c;
                    }
                    if (kind == 1) return java.util.Arrays.copyOf(b, i);
                    byte[] c = new byte[b.length + 1];
                    System.arraycopy(b, 0, c, 0, i);
                    c[i] = v;
                    System.arraycopy(b, i, c, i + 1, b.length - i);
                    return c;
                });
        return Arbitraries.oneOf(valid, mutated, Arbitraries.bytes().array(byte[].class).ofMaxSize(96));
    }

    private static List<ByteBuffer> split(byte[] b, Random rnd) {
        List<ByteBuffer> parts = new ArrayList<>();
        int at = 0;
        while (at < b.length) {
            int n = 1 + rnd.nextInt(Math.max(1, b.length - at));
            parts.add(rnd.nextBoolean() ? ByteBuffer.wrap(b, at, n).slice() : ByteBuffer.allocateDirect(n).put(0, b, at, n));
            at += n;
        }
        return parts;
    }
}
