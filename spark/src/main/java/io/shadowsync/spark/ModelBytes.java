package io.shadowsync.spark;

import io.shadowsync.api.TrainedModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.broadcast.Broadcast;

/**
 * A trained model as the bytes of its model file, the form in which it travels between the driver and the
 * executors (a broadcast for scoring, a task's result after training). Each executor JVM keeps the last model it
 * loaded, so the partitions of one transform load it once.
 */
final class ModelBytes {
    private static long cachedId = -1;
    private static TrainedModel cached;

    private ModelBytes() {}

    /** The model file's bytes. */
    static byte[] of(TrainedModel model) {
        try {
            Path tmp = Files.createTempFile("shadowsync-model", ".bin");
            try {
                model.save(tmp);
                return Files.readAllBytes(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not serialize the model: " + e.getMessage(), e);
        }
    }

    /** The model of a model file's bytes (checked as a file is: magic, checksum, shapes). */
    static TrainedModel read(byte[] bytes) throws IOException {
        Path tmp = Files.createTempFile("shadowsync-model", ".bin");
        try {
            Files.write(tmp, bytes);
            return TrainedModel.load(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The broadcast model, loaded once per executor JVM. */
    static synchronized TrainedModel load(Broadcast<byte[]> file) throws IOException {
        if (cachedId != file.id()) {
            cached = read(file.value());
            cachedId = file.id();
        }
        return cached;
    }
}
