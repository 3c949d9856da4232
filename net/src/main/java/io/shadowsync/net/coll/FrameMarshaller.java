package io.shadowsync.net.coll;

import io.grpc.Detachable;
import io.grpc.HasByteBuffer;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.shadowsync.comm.Codec;
import io.shadowsync.net.proto.RingFrame;
import io.shadowsync.net.proto.RingGrpc;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses incoming ring frames without copying their floats. When gRPC hands over a message whose bytes sit in
 * transport buffers, the marshaller takes ownership of those buffers ({@link Detachable}), decodes the frame's few
 * header fields itself (the protobuf wire format of {@link RingFrame}), and keeps its {@code data} as slices of the
 * buffers, so the floats go from the socket's buffers straight into the rank's array ({@link
 * Received#copyFloats}). The buffers go back to the transport when the frame is {@linkplain Received#close()
 * closed}, which the link does as soon as the rank has consumed it. Other streams fall back to an ordinary parse.
 * (Protobuf's own aliasing does not serve here: over several buffers it parses through a stream and copies.)
 */
final class FrameMarshaller implements MethodDescriptor.Marshaller<FrameMarshaller.Received> {
    private static final MethodDescriptor.Marshaller<RingFrame> PLAIN = RingGrpc.getStreamMethod().getRequestMarshaller();

    /**
     * One received frame: its header fields (in a {@link RingFrame} without data), its data as read-only slices,
     * and the transport buffers those slices share (null when the frame owns its bytes).
     * Sharing contract: handed from gRPC's thread to the rank's thread through the link's inbox; closed once.
     */
    record Received(RingFrame header, List<ByteBuffer> data, InputStream owner) implements AutoCloseable {
        /** Bytes of data. */
        int dataBytes() {
            int n = 0;
            for (ByteBuffer b : data) n += b.remaining();
            return n;
        }

        /** Copies the data, as bytes, into {@code dst[off .. off+dataBytes())}. */
        void copyBytes(byte[] dst, int off) {
            int at = off;
            for (ByteBuffer buf : data) {
                int k = buf.remaining();
                buf.duplicate().get(dst, at, k);
                at += k;
            }
        }

        /**
         * Decodes the data, values of the codec, into {@code dst[off .. off+dataBytes()/width)}: one bulk decode per
         * buffer, and a value that straddles two buffers is put together byte by byte.
         */
        void copyFloats(Codec codec, float[] dst, int off) {
            int width = codec.bytesPerValue(), at = off, carried = 0;
            byte[] carry = new byte[width];
            for (ByteBuffer buf : data) {
                ByteBuffer b = buf.duplicate();
                while (carried > 0 && b.hasRemaining()) {
                    carry[carried++] = b.get();
                    if (carried == width) {
                        codec.decode(ByteBuffer.wrap(carry), dst, at++, 1);
                        carried = 0;
                    }
                }
                int whole = b.remaining() / width;
                if (whole > 0) {
                    codec.decode(b, dst, at, whole);
                    at += whole;
                }
                while (b.hasRemaining()) carry[carried++] = b.get();
            }
        }

        @Override
        public void close() {
            if (owner == null) return;
            try {
                owner.close();
            } catch (IOException e) {
                throw new IllegalStateException("cannot release a ring frame's buffers", e);
            }
        }
    }

    @Override
    public InputStream stream(Received value) {
        return PLAIN.stream(value.header());
    }

    @Override
    public Received parse(InputStream stream) {
        if (stream instanceof KnownLength && stream instanceof Detachable d && stream instanceof HasByteBuffer h
                && h.byteBufferSupported()) {
            InputStream owned = d.detach();
            try {
                List<ByteBuffer> buffers = buffers(owned);
                if (buffers != null) return decode(buffers, owned);
            } catch (IOException | RuntimeException e) {
                closeQuietly(owned);
                throw Status.INTERNAL.withDescription("malformed ring frame: " + e.getMessage()).withCause(e).asRuntimeException();
            }
            // the buffers cannot be had in place after all: parse the owned copy of the stream the ordinary way
            try (InputStream in = owned) {
                in.reset();
                RingFrame f = PLAIN.parse(in);
                return new Received(f.toBuilder().clearData().build(), f.getData().asReadOnlyByteBufferList(), null);
            } catch (IOException e) {
                throw Status.INTERNAL.withDescription("cannot read a ring frame: " + e.getMessage()).withCause(e).asRuntimeException();
            }
        }
        RingFrame f = PLAIN.parse(stream);
        return new Received(f.toBuilder().clearData().build(), f.getData().asReadOnlyByteBufferList(), null);
    }

    /** The owned stream's bytes as the transport's own buffers (kept alive by a mark), or null if it cannot. */
    private static List<ByteBuffer> buffers(InputStream owned) throws IOException {
        int size = owned.available();
        owned.mark(size); // keeps each buffer alive while we skip past it
        List<ByteBuffer> parts = new ArrayList<>();
        HasByteBuffer h = (HasByteBuffer) owned;
        while (owned.available() > 0) {
            ByteBuffer b = h.getByteBuffer();
            if (b == null || !b.hasRemaining()) return null;
            int n = b.remaining();
            parts.add(b.asReadOnlyBuffer());
            if (owned.skip(n) != n) return null;
        }
        return parts;
    }

    /**
     * Decodes the protobuf wire format of a {@link RingFrame} over the buffers: varint fields into a header, the
     * {@code data} field (9) as slices. Unknown fields are skipped, as protobuf would.
     */
    static Received decode(List<ByteBuffer> buffers, InputStream owner) throws IOException {
        Wire in = new Wire(buffers);
        RingFrame.Builder header = RingFrame.newBuilder();
        List<ByteBuffer> data = List.of();
        while (!in.atEnd()) {
            long tag = in.varint();
            int field = (int) (tag >>> 3), type = (int) (tag & 7);
            if (type == 0) {
                long v = in.varint();
                switch (field) {
                    case 2 -> header.setFromRank((int) v);
                    case 3 -> header.setToRank((int) v);
                    case 4 -> header.setSize((int) v);
                    case 5 -> header.setSeq(v);
                    case 6 -> header.setOpcode((int) v);
                    case 7 -> header.setTotal((int) v);
                    case 8 -> header.setExtra((int) v);
                    default -> { } // unknown varint field
                }
            } else if (type == 2) {
                long len = in.varint();
                if (len < 0 || len > in.left()) throw new IOException("field " + field + " claims " + len + " bytes, " + in.left() + " remain");
                switch (field) {
                    case 1 -> header.setGroup(in.string((int) len));
                    case 9 -> data = in.slices((int) len);
                    case 10 -> header.setAbort(in.string((int) len));
                    default -> in.skip(len);
                }
            } else if (type == 1) {
                in.skip(8);
            } else if (type == 5) {
                in.skip(4);
            } else {
                throw new IOException("wire type " + type + " of field " + field + " is not used by a ring frame");
            }
        }
        return new Received(header.build(), data, owner);
    }

    /** A cursor over a list of buffers (their positions are left alone). */
    private static final class Wire {
        private final List<ByteBuffer> bufs;
        private int index;
        private int pos; // within bufs.get(index), relative to its position
        private long left;

        Wire(List<ByteBuffer> bufs) {
            this.bufs = bufs;
            for (ByteBuffer b : bufs) left += b.remaining();
        }

        boolean atEnd() {
            return left == 0;
        }

        long left() {
            return left;
        }

        private ByteBuffer current() {
            while (pos >= bufs.get(index).remaining()) {
                index++;
                pos = 0;
            }
            return bufs.get(index);
        }

        byte next() throws IOException {
            if (left == 0) throw new IOException("a ring frame ends in the middle of a field");
            ByteBuffer b = current();
            byte v = b.get(b.position() + pos);
            pos++;
            left--;
            return v;
        }

        long varint() throws IOException {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                byte b = next();
                v |= (long) (b & 0x7f) << shift;
                if (b >= 0) return v;
            }
            throw new IOException("a varint of a ring frame is longer than 10 bytes");
        }

        void skip(long n) throws IOException {
            if (n > left) throw new IOException("a ring frame ends in the middle of a field");
            while (n > 0) {
                ByteBuffer b = current();
                int k = (int) Math.min(n, b.remaining() - pos);
                pos += k;
                left -= k;
                n -= k;
            }
        }

        List<ByteBuffer> slices(int n) throws IOException {
            List<ByteBuffer> out = new ArrayList<>(2);
            if (n > left) throw new IOException("a ring frame ends in the middle of its data");
            while (n > 0) {
                ByteBuffer b = current();
                int k = Math.min(n, b.remaining() - pos);
                out.add(b.slice(b.position() + pos, k));
                pos += k;
                left -= k;
                n -= k;
            }
            return out;
        }

        String string(int n) throws IOException {
            byte[] s = new byte[n];
            for (int i = 0; i < n; i++) s[i] = next();
            return new String(s, StandardCharsets.UTF_8);
        }
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // releasing buffers of a frame we reject anyway
        }
    }
}
