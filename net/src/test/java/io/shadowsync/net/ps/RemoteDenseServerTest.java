package io.shadowsync.net.ps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.InProcessDenseServer;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.net.NetConfig;
import io.shadowsync.net.Transport;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RemoteDenseServerTest {
    private static final Transport LOOPBACK = new Transport(NetConfig.LOOPBACK);
    private static final long[][] NO_TABLES = {};
    private static final EmbeddingOptimizerSpec EMB = new EmbeddingOptimizerSpec("sgd", 0.1);
    /** int8's values per scale (Int8Codec.CHUNK, package-private to core's comm). */
    private static final int INT8_CHUNK = 256;

    private static float[] initial(int size) {
        SplittableRandom rng = new SplittableRandom(size);
        float[] v = new float[size];
        for (int i = 0; i < size; i++) v[i] = (float) rng.nextGaussian();
        return v;
    }

    @Test
    void pullsDeltasAndGradientsGiveTheInProcessServersBits() throws Exception {
        OptimizerSpec[] optimizers = {null, OptimizerSpec.of("sgd", 0.1).withMomentum(0.9).withNesterov(true),
                OptimizerSpec.of("adam", 0.01).withWeightDecay(0.01), OptimizerSpec.of("adagrad", 0.1)};
        for (OptimizerSpec opt : optimizers) {
            for (int shards = 1; shards <= 3; shards++) {
                int size = 11;
                float[] init = initial(size);
                InProcessDenseServer reference = new InProcessDenseServer(init, shards, opt, LinkModel.NONE);
                PsShardSpec spec = new PsShardSpec(NO_TABLES, new float[0], 1, EMB, init, opt, 0, shards);
                String what = (opt == null ? "deltas" : opt.name()) + " S=" + shards;
                try (Nodes nodes = new Nodes(LOOPBACK, spec); RemoteDenseServer remote = RemoteDenseServer.connect(LOOPBACK, nodes.addresses)) {
                    assertEquals(size, remote.size());
                    assertEquals(opt != null, remote.takesGradients());
                    SplittableRandom rng = new SplittableRandom(7);
                    float[] a = new float[size + 2], b = new float[size + 2], v = new float[size];
                    for (int round = 0; round < 6; round++) {
                        for (int i = 0; i < size; i++) v[i] = (float) rng.nextGaussian();
                        if (opt == null || round % 3 == 0) {
                            reference.pushDelta(v);
                            remote.pushDelta(v);
                        } else {
                            reference.pushGradient(v);
                            remote.pushGradient(v);
                        }
                        reference.pull(a);
                        remote.pull(b);
                        assertArrayEquals(a, b, what + " round " + round);
                    }
                    assertEquals(6 * 2 * 4L * size, remote.bytes());
                }
            }
        }
    }

    /**
     * Under a codec, a push travels as each block's codec message to the node that holds the block, which decodes it:
     * the bytes are the messages' (int8 about a quarter of float32, top-k:0.1 a fifth, fp16 half), the center (and a
     * server optimizer's model) moves by exactly what the sender decoded (the in-process server's bits, given those
     * values), and what was decoded is within the codec's bound of what was given: fp16 to 2^-11 relative, int8 to one
     * step of its chunk's scale (max|x|/127), top-k the first push's largest values exactly and at most k of a block.
     * Caught: pushes still sent as float32 (the bytes), a node that decodes another codec than the sender encoded, or
     * a message split across nodes otherwise than the blocks (refused, or other values), bytes counted before encoding.
     */
    @Test
    void encodedPushesTravelInTheCodecAndAreDecodedOnTheNodes() throws Exception {
        int size = 1000;
        for (String name : new String[] {"fp16", "int8", "int8:stochastic", "topk:0.1"}) {
            io.shadowsync.comm.Codec codec = io.shadowsync.comm.Codec.named(name);
            for (int shards = 2; shards <= 3; shards++) {
                OptimizerSpec opt = OptimizerSpec.of("sgd", 0.1);
                float[] init = initial(size);
                InProcessDenseServer reference = new InProcessDenseServer(init, shards, opt, LinkModel.NONE);
                PsShardSpec spec = new PsShardSpec(NO_TABLES, new float[0], 1, EMB, init, opt, 0, shards);
                String what = name + " S=" + shards;
                try (Nodes nodes = new Nodes(LOOPBACK, spec); RemoteDenseServer remote = RemoteDenseServer.connect(LOOPBACK, nodes.addresses)) {
                    int[] blocks = remote.blocks();
                    assertEquals(shards + 1, blocks.length, what);
                    long due = 0;
                    for (int b = 0; b + 1 < blocks.length; b++) due += codec.encodedBytes(blocks[b + 1] - blocks[b]);
                    assertTrue(due <= 2L * size + 64, what + ": " + due + " bytes a push");
                    io.shadowsync.comm.BlockEncoders enc = new io.shadowsync.comm.BlockEncoders(codec, blocks, 3, true);
                    SplittableRandom rng = new SplittableRandom(11);
                    float[] a = new float[size], b = new float[size];
                    for (int round = 0; round < 4; round++) {
                        float[] given = new float[size];
                        for (int i = 0; i < size; i++) given[i] = (float) (rng.nextGaussian() * (1 + i % 7));
                        float[] x = given.clone();
                        byte[][] messages = enc.encode(x); // x: what the nodes will decode
                        assertEquals(due, io.shadowsync.comm.BlockEncoders.bytes(messages), what);
                        long before = remote.bytes();
                        if (round % 2 == 0) {
                            reference.pushDelta(x);
                            remote.pushDelta(x, codec, messages);
                        } else {
                            reference.pushGradient(x);
                            remote.pushGradient(x, codec, messages);
                        }
                        assertEquals(due, remote.bytes() - before, what + " round " + round + ": the bytes are the messages'");
                        reference.pull(a);
                        remote.pull(b);
                        assertArrayEquals(a, b, what + " round " + round + ": the nodes applied what the sender decoded");
                        if (round == 0) checkBound(codec, blocks, given, x, what);
                    }
                }
            }
        }
    }

    /** What the first push decoded to, against what was given, within the codec's bound. */
    private static void checkBound(io.shadowsync.comm.Codec codec, int[] blocks, float[] given, float[] got, String what) {
        String name = codec.name();
        for (int blk = 0; blk + 1 < blocks.length; blk++) {
            int from = blocks[blk], to = blocks[blk + 1], nonzero = 0;
            for (int i = from; i < to; i++) {
                double err = Math.abs(got[i] - given[i]);
                if (name.equals("fp16")) {
                    assertTrue(err <= Math.abs(given[i]) * 0x1p-11 + 1e-7, what + " [" + i + "] " + given[i] + " → " + got[i]);
                } else if (name.startsWith("int8")) {
                    int c0 = from + (i - from) / INT8_CHUNK * INT8_CHUNK;
                    double max = 0;
                    for (int j = c0; j < Math.min(to, c0 + INT8_CHUNK); j++) max = Math.max(max, Math.abs(given[j]));
                    assertTrue(err <= max / 127 * 1.0001, what + " [" + i + "] " + given[i] + " → " + got[i] + ", chunk max " + max);
                } else {
                    if (got[i] != 0) {
                        nonzero++;
                        assertEquals(given[i], got[i], what + " [" + i + "]: top-k sends a value as it is");
                    }
                }
            }
            if (name.startsWith("topk")) {
                int len = to - from;
                assertTrue(nonzero <= Math.ceil(0.1 * len) && nonzero > 0, what + " block " + blk + ": " + nonzero + " of " + len);
            }
        }
    }

    @Test
    void aVectorSmallerThanTheShardCountLeavesSomeNodesEmpty() throws Exception {
        float[] init = {1, 2};
        OptimizerSpec opt = OptimizerSpec.of("adam", 0.05);
        InProcessDenseServer reference = new InProcessDenseServer(init, 1, opt, LinkModel.NONE);
        try (Nodes nodes = new Nodes(LOOPBACK, new PsShardSpec(NO_TABLES, new float[0], 1, EMB, init, opt, 0, 3));
             RemoteDenseServer remote = RemoteDenseServer.connect(LOOPBACK, nodes.addresses)) {
            assertEquals(0, nodes.get(0).dense().length(), "block [0·2/3, 1·2/3) = [0, 0)");
            for (int round = 0; round < 3; round++) {
                float[] g = {round + 1, -round};
                reference.pushGradient(g);
                remote.pushGradient(g);
            }
            float[] a = new float[2], b = new float[2];
            reference.pull(a);
            remote.pull(b);
            assertArrayEquals(a, b);
            assertEquals(0, nodes.get(0).densePushes(), "the empty node is not called");
        }
    }

    @Test
    void concurrentDeltasAreNeverLost() throws Exception {
        int size = 40, threads = 4, rounds = 25;
        float[] init = new float[size];
        try (Nodes nodes = new Nodes(LOOPBACK, new PsShardSpec(NO_TABLES, new float[0], 1, EMB, init, null, 0, 2));
             RemoteDenseServer remote = RemoteDenseServer.connect(LOOPBACK, nodes.addresses)) {
            Thread[] workers = new Thread[threads];
            Throwable[] failures = new Throwable[threads];
            for (int w = 0; w < threads; w++) {
                final int me = w;
                workers[w] = new Thread(() -> {
                    float[] d = new float[size], seen = new float[size];
                    java.util.Arrays.fill(d, me + 1); // small integers: every order of additions gives the same sum
                    try {
                        for (int r = 0; r < rounds; r++) {
                            remote.pushDelta(d);
                            remote.pull(seen);
                        }
                    } catch (Throwable e) {
                        failures[me] = e;
                    }
                }, "test-trainer-" + w);
                workers[w].start();
            }
            for (Thread t : workers) t.join(30_000);
            for (int w = 0; w < threads; w++) if (failures[w] != null) throw new AssertionError("thread " + w, failures[w]);
            float[] out = new float[size], expect = new float[size];
            java.util.Arrays.fill(expect, rounds * (1 + 2 + 3 + 4));
            remote.pull(out);
            assertArrayEquals(expect, out);
        }
    }

    @Test
    void gradientsAreRefusedWithoutADenseOptimizerAndShortArraysAlways() throws Exception {
        try (Nodes nodes = new Nodes(LOOPBACK, new PsShardSpec(NO_TABLES, new float[0], 1, EMB, new float[4], null, 0, 2));
             RemoteDenseServer remote = RemoteDenseServer.connect(LOOPBACK, nodes.addresses)) {
            assertFalse(remote.takesGradients());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> remote.pushGradient(new float[4]));
            assertTrue(e.getMessage().contains("deltas only"), e.getMessage());
            IllegalArgumentException f = assertThrows(IllegalArgumentException.class, () -> remote.pull(new float[3]));
            assertTrue(f.getMessage().contains("the servers hold 4"), f.getMessage());
        }
        try (Nodes nodes = new Nodes(LOOPBACK, new PsShardSpec(new long[][] {{4, 2}}, new float[] {0}, 1, EMB, null, null, 0, 1))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> RemoteDenseServer.connect(LOOPBACK, nodes.addresses));
            assertTrue(e.getMessage().contains("hold no dense vector"), e.getMessage());
        }
    }

    @Test
    void aStoppedNodeIsReportedByNameWithinSeconds() throws Exception {
        try (Nodes nodes = new Nodes(LOOPBACK, new PsShardSpec(NO_TABLES, new float[0], 1, EMB, new float[6], null, 0, 2));
             RemoteDenseServer remote = RemoteDenseServer.connect(LOOPBACK, nodes.addresses)) {
            remote.pushDelta(new float[6]);
            nodes.get(1).close();
            long t0 = System.nanoTime();
            ParameterServerException e = assertThrows(ParameterServerException.class, () -> remote.pull(new float[6]));
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(e.getMessage().startsWith("parameter server shard 1 (" + nodes.addresses.get(1) + ") is unreachable: "),
                    e.getMessage());
            assertTrue(seconds < 10, "reported after " + seconds + " s");
        }
    }
}
