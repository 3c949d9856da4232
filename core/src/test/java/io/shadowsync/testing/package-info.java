/**
 * Test helpers shared by the modules' tests through core's test-jar: {@link LogCapture} records what the library logs.
 */
package io.shadowsync.testing;
