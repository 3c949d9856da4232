package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.api.TrainingJob;
import io.shadowsync.data.Batch;
import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.data.OwnShare;
import io.shadowsync.data.SyntheticCtr;
import io.shadowsync.engine.feed.BatchSupply;
import io.shadowsync.engine.feed.DataSplit;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Data that is already one trainer's share (a Spark task's partition) is trained whole, not 1/N of it. */
class OwnShareTest {
    private static long examplesSupplied(BatchSupply s) throws InterruptedException {
        long n = 0;
        for (Batch b = s.take(0); b != BatchSupply.END; b = s.take(0)) {
            n += b.size;
            s.recycle(0, b);
        }
        return n;
    }

    @Test
    void trainerOneOfTwoTakesAllOfItsOwnShareButHalfOfSharedData(@TempDir Path tmp) throws Exception {
        new SyntheticCtr(new SyntheticCtr.Config(100, 10, 3, 100)).generate(tmp);
        InMemorySource mem = InMemorySource.load(new CriteoTsvSource(tmp.resolve("train.tsv"), false));
        TrainerConfig c = new TrainerConfig(1, 10, 0, 2, DataSplit.ROUND_ROBIN, 1, 4, 1000, false, 0);
        assertEquals(2 * 100, examplesSupplied(BatchSupply.ofTrainer(new OwnShare(mem), c, 1, 2)));
        assertEquals(2 * 50, examplesSupplied(BatchSupply.ofTrainer(mem, c, 1, 2)));
    }

    @Test
    void severalTrainersInOneJobRefuseOneShare(@TempDir Path tmp) throws Exception {
        new SyntheticCtr(new SyntheticCtr.Config(100, 10, 3, 100)).generate(tmp);
        InMemorySource mem = InMemorySource.load(new CriteoTsvSource(tmp.resolve("train.tsv"), false));
        TrainingJob job = TrainingJob.builder().data(new OwnShare(mem)).trainers(2).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, job::run);
        assertTrue(e.getMessage().contains("OwnShare"), e.getMessage());
    }
}
