package io.shadowsync.fed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.Codec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Compressed client uploads: the codec applies, and each client's error feedback is its own and lasts the job. */
class UploadsTest {
    @BeforeAll
    static void data() throws Exception {
        FederationTest.data();
    }

    /**
     * A client uploading the same change m times with top-k 10 %: what the server received adds up to m times the
     * change (error feedback), up to what is still pending; client 1's uploads are those of a fresh client, whatever
     * client 0 sent. Caught: an encoder made anew for each upload (the sum stays at m·topk(delta), a gap of 90 % of
     * the coordinates), one encoder shared by all clients (client 1 would send client 0's residual).
     */
    @Test
    void eachClientsLeftOutChangeArrivesInItsLaterUploads() {
        int n = 200, m = 60;
        float[] delta = new float[n];
        for (int i = 0; i < n; i++) delta[i] = (float) Math.sin(i * 0.7) * (1 + i % 7);
        Uploads up = new Uploads(Codec.named("topk:0.1"), 2, 5);
        float[] sum = new float[n];
        for (int r = 0; r < m; r++) {
            float[] got = up.received(0, delta);
            int nonzero = 0;
            for (int i = 0; i < n; i++) {
                sum[i] += got[i];
                if (got[i] != 0) nonzero++;
            }
            assertTrue(nonzero <= 20, "top-k 10% of 200 sends at most 20 values, got " + nonzero);
        }
        double gap = 0, norm = 0;
        for (int i = 0; i < n; i++) {
            gap += Math.abs(sum[i] - m * delta[i]);
            norm += Math.abs(m * delta[i]);
        }
        assertTrue(gap / norm < 0.1, "sum of uploads vs " + m + "×change: relative gap " + gap / norm);
        float[] fresh = new Uploads(Codec.named("topk:0.1"), 2, 5).received(1, delta);
        assertArrayEquals(fresh, up.received(1, delta), 0f);
        assertEquals(Codec.named("topk:0.1").encodedBytes(n) + 8, up.bytes(n));
    }

    /** float32 uploads arrive exactly; int8 within half a chunk scale. Caught: the codec not applied at all (int8 exact). */
    @Test
    void theCodecIsWhatTheServerReceives() {
        float[] delta = {0.1f, -0.25f, 3f, 1e-3f};
        assertArrayEquals(delta, new Uploads(Codec.FLOAT32, 1, 1).received(0, delta), 0f);
        float[] q = new Uploads(Codec.named("int8"), 1, 1).received(0, delta);
        float scale = 3f / 127;
        boolean rounded = false;
        for (int i = 0; i < delta.length; i++) {
            assertEquals(delta[i], q[i], scale / 2 + 1e-6f);
            rounded |= q[i] != delta[i];
        }
        assertTrue(rounded, "int8 rounds");
    }

    /** Lossy uploads are refused beside secure aggregation and DP, naming both. */
    @Test
    void lossyUploadsAreRefusedWithSecureAggregationAndPrivacy() {
        var secure = assertThrows(IllegalArgumentException.class, () -> FederationTest.job().clients(4).compress("int8").secureAggregation(true, 0).build());
        assertTrue(secure.getMessage().contains("int8") && secure.getMessage().contains("secure aggregation"), secure.getMessage());
        var dp = assertThrows(IllegalArgumentException.class, () -> FederationTest.job().clients(4).compress("topk:0.1").privacy(1, 1, 1e-5).build());
        assertTrue(dp.getMessage().contains("differential privacy"), dp.getMessage());
    }

    /**
     * Through whole rounds: top-k 10 % uploads (8 bytes a kept value) cost under a quarter of float32's bytes and the global model still
     * learns the blobs. Caught: bytes counted unencoded, uploads that drop what top-k left out for good.
     */
    @Test
    void topKUploadsTrainForAFractionOfTheBytes() throws Exception {
        FederatedResult plain = FederationTest.job().clients(4).rounds(6).build().run(null);
        FederatedResult topk = FederationTest.job().clients(4).rounds(6).compress("topk:0.1").build().run(null);
        long pb = plain.rounds().get(0).uploadBytes(), tb = topk.rounds().get(0).uploadBytes();
        assertTrue(tb * 4 < pb, "upload bytes a round: top-k " + tb + " vs float32 " + pb);
        assertTrue(topk.eval().accuracy() > plain.eval().accuracy() - 0.1, "top-k " + topk.eval().accuracy() + " vs float32 " + plain.eval().accuracy());
    }
}
