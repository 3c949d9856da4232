package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.ForwardingEmbeddingStore;
import java.lang.reflect.Method;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The worker's push buffer stands in front of every embedding store, so it must forward every method of the seam —
 * a default it forgets is silently the no-op default (a forgotten {@code prefetch} made every DLRM table its own round
 * trip to the parameter servers, 26 per step). It and the other wrappers (timing, row codecs) forward through
 * {@link ForwardingEmbeddingStore}, which must itself declare every method.
 */
class DeferredPushesForwardingTest {
    @Test
    void everyMethodOfTheSeamIsForwarded() throws Exception {
        Set<Class<?>> forwarders = Set.of(DeferredPushes.class, ForwardingEmbeddingStore.class);
        assertTrue(ForwardingEmbeddingStore.class.isAssignableFrom(DeferredPushes.class));
        for (Method m : EmbeddingStore.class.getMethods()) {
            Method base = ForwardingEmbeddingStore.class.getMethod(m.getName(), m.getParameterTypes());
            assertEquals(ForwardingEmbeddingStore.class, base.getDeclaringClass(), "ForwardingEmbeddingStore does not forward " + m.getName());
            Method impl = DeferredPushes.class.getMethod(m.getName(), m.getParameterTypes());
            assertTrue(forwarders.contains(impl.getDeclaringClass()), "DeferredPushes does not forward " + m.getName());
        }
    }
}
