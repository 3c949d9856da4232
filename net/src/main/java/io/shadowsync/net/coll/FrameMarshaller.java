package io.shadowsync.net.coll;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Detachable;
import io.grpc.HasByteBuffer;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.shadowsync.net.proto.RingFrame;
import io.shadowsync.net.proto.RingGrpc;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses incoming ring frames without copying their floats: when gRPC hands over a message whose bytes sit in
 * transport buffers, the marshaller takes ownership of those buffers ({@link Detachable}) and parses the frame with
 * its {@code data} aliasing them, so the floats go from the socket's buffers straight into the rank's array
 * ({@link #copyFloats}). The buffers are returned when the frame is {@linkplain Received#close() closed}, which the
 * link does as soon as the rank has consumed it. Other streams fall back to an ordinary parse.
 */
final class FrameMarshaller implements MethodDescriptor.Marshaller<FrameMarshaller.Received> {
    private static final MethodDescriptor.Marshaller<RingFrame> PLAIN = RingGrpc.getStreamMethod().getRequestMarshaller();

    /**
     * One parsed frame and the transport buffers its data aliases (null when it owns its bytes).
     * Sharing contract: handed from gRPC's thread to the rank's thread through the link's inbox; closed once.
     */
    record Received(RingFrame frame, InputStream owner) implements AutoCloseable {
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
        return PLAIN.stream(value.frame());
    }

    @Override
    public Received parse(InputStream stream) {
        if (stream instanceof KnownLength && stream instanceof Detachable d && stream instanceof HasByteBuffer h
                && h.byteBufferSupported()) {
            InputStream owned = d.detach();
            try {
                Received r = parseAliased(owned);
                if (r != null) return r;
                owned.close();
            } catch (IOException | RuntimeException e) {
                closeQuietly(owned);
                throw Status.INTERNAL.withDescription("malformed ring frame: " + e.getMessage()).withCause(e).asRuntimeException();
            }
            throw Status.INTERNAL.withDescription("a ring frame's buffers could not be read in place").asRuntimeException();
        }
        return new Received(PLAIN.parse(stream), null);
    }

    /** Parses the frame over the owned stream's buffers, or returns null if they cannot all be had as ByteBuffers. */
    private static Received parseAliased(InputStream owned) throws IOException {
        int size = owned.available();
        owned.mark(size); // keeps each buffer alive while we skip past it
        List<ByteString> parts = new ArrayList<>();
        HasByteBuffer h = (HasByteBuffer) owned;
        while (owned.available() > 0) {
            ByteBuffer b = h.getByteBuffer();
            if (b == null || !b.hasRemaining()) return null;
            int n = b.remaining();
            parts.add(UnsafeByteOperations.unsafeWrap(b));
            if (owned.skip(n) != n) return null;
        }
        CodedInputStream in = ByteString.copyFrom(parts).newCodedInput(); // a rope over the buffers, not a copy
        in.enableAliasing(true);
        in.setSizeLimit(Integer.MAX_VALUE);
        RingFrame frame;
        try {
            frame = RingFrame.parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            throw new IOException(e.getMessage(), e);
        }
        return new Received(frame, owned);
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // releasing buffers of a frame we reject anyway
        }
    }

    /**
     * Copies little-endian float32 bytes into {@code dst[0 .. data.size()/4)}: one bulk copy per underlying buffer,
     * and a float that straddles two buffers is put together byte by byte.
     */
    static void copyFloats(ByteString data, float[] dst) {
        int at = 0, carried = 0;
        byte[] carry = new byte[4];
        for (ByteBuffer b : data.asReadOnlyByteBufferList()) {
            b.order(ByteOrder.LITTLE_ENDIAN);
            while (carried > 0 && carried < 4 && b.hasRemaining()) carry[carried++] = b.get();
            if (carried == 4) {
                dst[at++] = ByteBuffer.wrap(carry).order(ByteOrder.LITTLE_ENDIAN).getFloat(0);
                carried = 0;
            }
            int whole = b.remaining() >>> 2;
            if (whole > 0) {
                FloatBuffer f = b.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                f.get(0, dst, at, whole);
                at += whole;
                b.position(b.position() + 4 * whole);
            }
            while (b.hasRemaining()) carry[carried++] = b.get();
        }
    }
}
