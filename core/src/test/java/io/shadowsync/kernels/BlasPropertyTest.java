package io.shadowsync.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URL;
import java.net.URLClassLoader;
import org.junit.jupiter.api.Test;

/**
 * The {@code shadowsync.blas} property is read once, when Blas loads, so each case loads a fresh copy of
 * the kernels (and netlib) in a class loader of its own with the property set.
 */
class BlasPropertyTest {
    private static final String PROPERTY = "shadowsync.blas";

    private static Object callOnFreshBlas(String value, String method) throws Exception {
        URL[] urls = {
            codeSource(Blas.class),
            codeSource(dev.ludovic.netlib.blas.BLAS.class),
            codeSource(Class.forName("org.netlib.util.booleanW")) // netlib's JNI binding needs it
        };
        String old = System.getProperty(PROPERTY);
        System.setProperty(PROPERTY, value);
        try (URLClassLoader loader = new URLClassLoader(urls, ClassLoader.getPlatformClassLoader())) {
            Class<?> blas = Class.forName(Blas.class.getName(), true, loader);
            return blas.getMethod(method).invoke(null);
        } finally {
            if (old == null) System.clearProperty(PROPERTY);
            else System.setProperty(PROPERTY, old);
        }
    }

    private static URL codeSource(Class<?> c) {
        return c.getProtectionDomain().getCodeSource().getLocation();
    }

    @Test
    void scalarCanBeForced() throws Exception {
        assertEquals("scalar Java [forced by shadowsync.blas]", callOnFreshBlas("scalar", "backend"));
        assertEquals("SCALAR", callOnFreshBlas(" Scalar ", "primaryBackend").toString());
    }

    @Test
    void javaCanBeForced() throws Exception {
        String description = (String) callOnFreshBlas("java", "backend");
        assertTrue(description.startsWith("Java BLAS (") && description.endsWith("[forced by shadowsync.blas]"),
                description);
    }

    @Test
    void nativeCanBeForcedWhereItLoads() throws Exception {
        assumeTrue(Blas.isAvailable(Blas.Backend.NATIVE), "no libblas.so.3 on this machine");
        String description = (String) callOnFreshBlas("native", "backend");
        assertTrue(description.startsWith("native BLAS (dev.ludovic.netlib NativeBLAS -> "), description);
    }

    @Test
    void anUnknownValueIsRefusedWithTheValueInTheMessage() {
        ExceptionInInitializerError init = assertThrows(ExceptionInInitializerError.class,
                () -> callOnFreshBlas("openblas", "backend"));
        IllegalStateException cause = assertInstanceOf(IllegalStateException.class, init.getCause());
        assertTrue(cause.getMessage().contains("shadowsync.blas=openblas"), cause.getMessage());
    }
}
