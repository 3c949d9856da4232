package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.shadowsync.nn.EmbeddingStore;
import java.lang.reflect.Method;
import org.junit.jupiter.api.Test;

/**
 * The worker's push buffer stands in front of every embedding store, so it must forward every method of the seam —
 * a default it forgets is silently the no-op default (a forgotten {@code prefetch} made every DLRM table its own round
 * trip to the parameter servers, 26 per step).
 */
class DeferredPushesForwardingTest {
    @Test
    void everyMethodOfTheSeamIsForwarded() throws Exception {
        for (Method m : EmbeddingStore.class.getMethods()) {
            Method impl = DeferredPushes.class.getMethod(m.getName(), m.getParameterTypes());
            assertEquals(DeferredPushes.class, impl.getDeclaringClass(), "DeferredPushes does not forward " + m.getName());
        }
    }
}
