package io.shadowsync.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.nn.ModelSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class ModelsTest {
    static void assertRefused(String mustMention, Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(mustMention), "message '" + ex.getMessage() + "' should mention " + mustMention);
    }

    @Test
    void propertiesRoundTrip() {
        ModelSpec[] specs = {LrSpec.criteo(), new LrSpec(8, 0, 0, true), MlpSpec.fashionMnist(),
            new MlpSpec(3, new int[0], 1, "tanh", "regression"), DlrmSpec.criteo(),
            new DlrmSpec(2, 1, 3_000_000_000L / 2, 8, new int[] {4, 4}, new int[0])};
        for (ModelSpec s : specs) {
            Map<String, String> p = s.toProperties();
            assertEquals(s.kind(), p.get("kind"));
            ModelSpec back = Models.fromProperties(p);
            assertEquals(s, back);
            assertEquals(s.hashCode(), back.hashCode());
            assertEquals(p, back.toProperties());
            assertTrue(s.build().dense().sameLayout(back.build().dense()));
        }
        assertEquals("256,128", MlpSpec.fashionMnist().toProperties().get("hidden"));
    }

    @Test
    void specsDoNotShareArraysWithCallers() {
        int[] hidden = {5, 6};
        MlpSpec s = new MlpSpec(3, hidden, 2, "relu", "multiclass");
        hidden[0] = 99;
        s.hidden()[1] = 99;
        assertArrayEquals(new int[] {5, 6}, s.hidden());
    }

    @Test
    void badPropertiesAreRefusedNamingTheKey() {
        Map<String, String> p = new LinkedHashMap<>(DlrmSpec.criteo().toProperties());
        p.remove("embDim");
        assertRefused("embDim", () -> Models.fromProperties(p));
        p.put("embDim", "sixteen");
        assertRefused("embDim", () -> Models.fromProperties(p));
        p.put("embDim", "16");
        p.put("bottom", "64,x");
        assertRefused("bottom", () -> Models.fromProperties(p));
        p.put("bottom", "64");
        p.put("dropout", "0.5");
        assertRefused("dropout", () -> Models.fromProperties(p));
        assertRefused("kind", () -> Models.fromProperties(Map.of("kind", "svm")));
        assertRefused("kind", () -> Models.fromProperties(Map.of("hashBits", "3")));
        Map<String, String> lr = new LinkedHashMap<>(LrSpec.criteo().toProperties());
        lr.put("sparse", "yes");
        assertRefused("sparse", () -> Models.fromProperties(lr));
        assertRefused("kind", () -> MlpSpec.fromProperties(LrSpec.criteo().toProperties()));
    }

    @Test
    void specValidationSaysWhatIsWrong() {
        assertRefused("hashBits", () -> new LrSpec(0, 13, 26, false));
        assertRefused("hashBits", () -> new LrSpec(32, 13, 26, false));
        assertRefused("at least one", () -> new LrSpec(8, 0, 0, false));
        assertRefused("outputs", () -> new MlpSpec(4, new int[] {3}, 1, "relu", "multiclass"));
        assertRefused("1 output", () -> new MlpSpec(4, new int[] {3}, 2, "relu", "binary"));
        assertRefused("activation", () -> new MlpSpec(4, new int[] {3}, 2, "gelu", "multiclass"));
        assertRefused("task", () -> new MlpSpec(4, new int[] {3}, 2, "relu", "ranking"));
        assertRefused("hidden", () -> new MlpSpec(4, new int[] {3, 0}, 2, "relu", "multiclass"));
        assertRefused("embRows", () -> new DlrmSpec(13, 26, 1L << 31, 16, new int[] {64}, new int[] {64}));
        assertRefused("numCat", () -> new DlrmSpec(13, 0, 100, 16, new int[] {64}, new int[] {64}));
        assertRefused("top", () -> new DlrmSpec(13, 26, 100, 16, new int[] {64}, new int[] {-1}));
        int[] deep = new int[MlpSpec.MAX_HIDDEN_LAYERS + 1];
        java.util.Arrays.fill(deep, 8);
        assertRefused("at most 1000 hidden layers, got 1001", () -> new MlpSpec(4, deep, 2, "relu", "multiclass"));
        assertRefused("at most 1000 hidden layers each, got 1 and 1001", () -> new DlrmSpec(13, 26, 100, 16, new int[] {64}, deep));
        // the deepest allowed builds, in one pass over its layers
        int[] deepest = java.util.Arrays.copyOf(deep, MlpSpec.MAX_HIDDEN_LAYERS);
        assertEquals(new MlpSpec(4, deepest, 2, "relu", "multiclass").denseParameters(),
                new MlpSpec(4, deepest, 2, "relu", "multiclass").build().dense().size());
    }
}
