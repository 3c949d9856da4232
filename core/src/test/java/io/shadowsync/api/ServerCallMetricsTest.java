package io.shadowsync.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.LinkModel;
import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.SyntheticCtr;
import io.shadowsync.model.LrSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The metrics log's ps_* and dense_* fields: the parameter-server calls each trainer makes, and their latencies. */
class ServerCallMetricsTest {
    @TempDir
    Path dir;

    static final double LATENCY_MS = 2;

    List<Map<String, Object>> train(String sync) throws Exception {
        new SyntheticCtr(new SyntheticCtr.Config(3_000, 100, 7, 100)).generate(dir.resolve("ctr"));
        List<Map<String, Object>> heard = new ArrayList<>();
        TrainingJob.builder().data(new CriteoTsvSource(dir.resolve("ctr/train.tsv"), false))
                .model(new LrSpec(12, 13, 26, false)).trainers(2).sync(sync).batchSize(64).psShards(2)
                .link(new LinkModel(Double.POSITIVE_INFINITY, LATENCY_MS / 1000))
                .logEvery(Duration.ofMillis(100)).metricsListener(rec -> {
                    if (rec.get("type").equals("train")) heard.add(new LinkedHashMap<>(rec));
                })
                .build().run();
        return heard;
    }

    /**
     * Over a link of 2 ms latency every pull from the sharded tables takes at least that: catches calls that are not
     * counted (0), latencies not measured around the call (near 0), counts that go backwards or are the interval's
     * instead of the total, and the dense server's fields left empty under s-easgd, whose sync thread pulls the center.
     */
    @Test
    void callsAndLatenciesOfTheTablesAndTheCenter() throws Exception {
        List<Map<String, Object>> recs = train("s-easgd");
        for (int t = 0; t < 2; t++) {
            long calls = -1;
            boolean waited = false;
            Map<String, Object> last = null;
            for (Map<String, Object> r : recs) {
                if (((Number) r.get("trainer")).intValue() != t) continue;
                long c = ((Number) r.get("ps_calls")).longValue();
                assertTrue(c >= calls, "ps_calls never decreases: " + r);
                calls = c;
                if (r.get("ps_p50_ms") != null) {
                    double p50 = (Double) r.get("ps_p50_ms"), p99 = (Double) r.get("ps_p99_ms"), max = (Double) r.get("ps_max_ms");
                    // a pull crosses the link and waits for it; a push of the in-process shards does not (the link charges it
                    // in the background) and ending a step is no call there: about a third of the calls wait
                    waited |= p99 >= LATENCY_MS * 15 / 16;
                    assertTrue(p50 <= p99 && p99 <= max, "percentiles in order: " + r);
                }
                last = r;
            }
            assertTrue(waited, "trainer " + t + ": pulls over a 2 ms link take 2 ms or more, seen in the 99th percentiles");
            assertTrue(last != null && Boolean.TRUE.equals(last.get("final")));
            // 1,500 examples in batches of 64: at least a pull and a push per step of its 24
            assertTrue(calls >= 2 * 24, "trainer " + t + " counted its table calls: " + last);
            assertTrue(((Number) last.get("dense_calls")).longValue() > 0, "EASGD's sync thread calls the center: " + last);
            assertNull(last.get("members"), "not an elastic job");
        }
        boolean anyDense = false;
        for (Map<String, Object> r : recs) {
            if (r.get("dense_p50_ms") != null) {
                anyDense = true;
                assertTrue((Double) r.get("dense_p50_ms") >= LATENCY_MS * 15 / 16, "the center's calls cross the link too: " + r);
            }
        }
        assertTrue(anyDense, "some interval had calls to the center");
    }

    /** Catches dense calls counted for an algorithm without a dense server (the fields follow the calls, not the job). */
    @Test
    void modelAveragingMakesNoDenseCalls() throws Exception {
        for (Map<String, Object> r : train("s-ma")) {
            assertEquals(0L, ((Number) r.get("dense_calls")).longValue(), "s-ma has no dense server: " + r);
            assertNull(r.get("dense_p50_ms"));
        }
    }
}
