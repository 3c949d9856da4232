package io.shadowsync.optim;

import static io.shadowsync.optim.DenseOptimizersTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OptimizerSpecTest {
    @Test
    void factoryAndWithersBuildTheNamedOptimizer() {
        Sgd sgd = assertInstanceOf(Sgd.class, OptimizerSpec.of("sgd", 0.05).withMomentum(0.9).withNesterov(true)
                .withWeightDecay(1e-4).dense(10));
        assertEquals(0.05, sgd.lr(), 1e-9);
        assertEquals(0.9, sgd.momentum(), 1e-7);
        assertTrue(sgd.nesterov());
        assertEquals(10, sgd.state()[0].length);

        Adagrad ada = assertInstanceOf(Adagrad.class, OptimizerSpec.of("adagrad", 0.1).withInitialAccumulator(0.1).dense(3));
        assertEquals(1e-10, ada.eps(), 1e-15);
        assertArrayEquals(new float[] {0.1f, 0.1f, 0.1f}, ada.state()[0]);

        Adam adam = assertInstanceOf(Adam.class, OptimizerSpec.of("adam", 1e-3).withBetas(0.5, 0.9).withEps(1e-6).dense(4));
        assertEquals(0.5, adam.beta1(), 0);
        assertEquals(0.9, adam.beta2(), 0);
        assertEquals(1e-6, adam.eps(), 1e-12);
    }

    @Test
    void specRefusesUnknownNamesAndSettingsThatDoNotApply() {
        assertMessage("unknown optimizer 'rmsprop'; valid: sgd, adagrad, adam", () -> OptimizerSpec.of("rmsprop", 0.1));
        assertMessage("momentum applies to sgd only, got 0.9 for adam (Adam's momentum is beta1)",
                () -> OptimizerSpec.of("adam", 0.1).withMomentum(0.9));
        assertMessage("Nesterov momentum needs sgd with a momentum above 0, got sgd with momentum 0.0",
                () -> OptimizerSpec.of("sgd", 0.1).withNesterov(true));
        assertMessage("an initial accumulator applies to adagrad only, got 0.1 for sgd",
                () -> OptimizerSpec.of("sgd", 0.1).withInitialAccumulator(0.1));
        assertMessage("sgd learning rate must be positive and finite, got -1.0", () -> OptimizerSpec.of("sgd", -1));
        assertMessage("beta2 must be in [0, 1), got 1.0", () -> OptimizerSpec.of("adam", 0.1).withBetas(0.9, 1));
    }

    @Test
    void toMapListsOnlyTheSettingsThatApply() {
        var m = OptimizerSpec.of("adam", 0.01).toMap();
        assertEquals("adam", m.get("name"));
        assertEquals(0.9, m.get("beta1"));
        assertFalse(m.containsKey("momentum"));
        assertEquals(java.util.List.of("name", "lr", "momentum", "nesterov", "weightDecay"),
                java.util.List.copyOf(OptimizerSpec.of("sgd", 0.1).toMap().keySet()));
    }

    @Test
    void embeddingDefaultsFollowTheDenseChoiceAtTheSameLr() {
        assertEquals(new EmbeddingOptimizerSpec("sgd", 0.3), EmbeddingOptimizerSpec.defaultFor(OptimizerSpec.of("sgd", 0.3)));
        assertEquals(new EmbeddingOptimizerSpec("rowwise-adagrad", 0.2),
                EmbeddingOptimizerSpec.defaultFor(OptimizerSpec.of("adagrad", 0.2)));
        assertEquals(new EmbeddingOptimizerSpec("rowwise-adagrad", 0.001),
                EmbeddingOptimizerSpec.defaultFor(OptimizerSpec.of("adam", 0.001)));
    }

    @Test
    void embeddingSpecBuildsOneOptimizerPerTable() {
        RowwiseAdagrad r = assertInstanceOf(RowwiseAdagrad.class, new EmbeddingOptimizerSpec("rowwise-adagrad", 0.1, 1e-6, 0.2).forTable(7, 4));
        assertEquals(7, r.state().length);
        assertEquals(0.2f, r.state()[6], 0f);
        assertEquals(1e-6, r.eps(), 1e-12);
        assertInstanceOf(RowSgd.class, new EmbeddingOptimizerSpec("sgd", 0.1).forTable(7, 4));
        assertMessage("unknown embedding optimizer 'adam'; valid: sgd, rowwise-adagrad", () -> new EmbeddingOptimizerSpec("adam", 0.1));
        assertMessage("an embedding table needs positive rows and dim, got 7 × 0",
                () -> new EmbeddingOptimizerSpec("sgd", 0.1).forTable(7, 0));
    }
}
