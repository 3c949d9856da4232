package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.ElasticGroup;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.nn.Model;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.SyncSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The metrics log of an elastic job: a membership record per change, once, and the train records' members. */
class MembershipMetricsTest {
    /**
     * Catches changes written again at every record (instead of once), a change made after the last sample lost, and
     * train records without the group's size and count of changes.
     */
    @Test
    void eachMembershipChangeIsOneRecord() throws Exception {
        List<String> changes = new CopyOnWriteArrayList<>(List.of("epoch 1: trainer 1 left", "epoch 2: trainer 1 joined"));
        ElasticGroup group = (ElasticGroup) java.lang.reflect.Proxy.newProxyInstance(ElasticGroup.class.getClassLoader(),
                new Class<?>[] {ElasticGroup.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "changes" -> List.copyOf(changes);
                    case "size" -> 2;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        TrainerConfig tc = new TrainerConfig(1, 16, 0, 2, DataSplit.ROUND_ROBIN, 2, 2, 1000, false);
        JobConfig config = new JobConfig(2, tc, new SyncSpec("s-ma", 5, 0, Double.NaN, 1.0, false, Double.NaN), 1, LinkModel.NONE);
        Model first = JobTerminationTest.DLRM.build();
        first.initDense(11);
        long[][] shapes = first.embeddingShapes();
        float[] std = new float[shapes.length];
        for (int k = 0; k < std.length; k++) std[k] = first.embeddingInitStd(k);
        OptimizerSpec opt = OptimizerSpec.of("sgd", 0.05);
        EmbeddingOptimizerSpec emb = new EmbeddingOptimizerSpec("sgd", 0.05);
        Cluster elastic = new ForwardingCluster(new InProcessCluster(shapes, std, 11, first.dense().data(), opt, emb, config)) {
            @Override
            public ElasticGroup elasticGroup() {
                return group;
            }
        };
        Job job = new Job(JobTerminationTest.DLRM, 11, opt, emb, NonFiniteGuardTest.source(NonFiniteGuardTest.examples(2000, 1)),
                config, elastic, new int[] {0, 1});
        List<Map<String, Object>> records = new ArrayList<>();
        MetricsLog log = new MetricsLog(job, Duration.ofMillis(100), List.of(r -> records.add(new LinkedHashMap<>(r))), null);
        log.start();
        job.run();
        changes.add("epoch 3: trainer 0 left");
        log.finish();
        List<Map<String, Object>> membership = new ArrayList<>();
        for (Map<String, Object> r : records) if (r.get("type").equals("membership")) membership.add(r);
        assertEquals(3, membership.size(), "one record per change: " + membership);
        for (int k = 0; k < 3; k++) {
            assertEquals(changes.get(k), membership.get(k).get("change"));
            assertEquals(k + 1, membership.get(k).get("changes"));
            assertEquals(2, membership.get(k).get("members"));
        }
        Map<String, Object> last = records.get(records.size() - 1);
        assertEquals("train", last.get("type"));
        assertTrue(Boolean.TRUE.equals(last.get("final")));
        assertEquals(2, last.get("members"));
        assertEquals(3, last.get("membership_changes"));
        assertTrue(records.indexOf(membership.get(2)) < records.indexOf(last), "a change comes before the records of its interval");
    }
}
