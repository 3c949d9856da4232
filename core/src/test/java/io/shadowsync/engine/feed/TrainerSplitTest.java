package io.shadowsync.engine.feed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.data.Batch;
import io.shadowsync.data.CsvSource;
import io.shadowsync.data.DataSchema;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.data.ForwardingReader;
import io.shadowsync.data.TextFileSource;
import io.shadowsync.engine.TrainerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * N trainers streaming one text file ({@link BatchSupply#ofTrainer}): each parses only its input split, so the lines parsed by
 * all of them are the file's lines, whatever N; every example is handed to a worker exactly once per epoch; and an
 * elastic takeover of a split share hands out exactly what the departed trainer had not trained.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TrainerSplitTest {
    static final int N = TakeoverTest.N;

    @TempDir
    Path dir;

    /** A CSV of N rows, "label,id" with fixed-width ids: example i has dense feature i. */
    DataSource csv() throws IOException {
        StringBuilder s = new StringBuilder("label,id\n");
        for (int i = 0; i < N; i++) s.append(i % 3).append(',').append(String.format("%04d", i)).append('\n');
        Path f = Files.writeString(dir.resolve("rows.csv"), s.toString());
        return new CsvSource(f, "label", 3, false);
    }

    /**
     * A file's source, as a caller of the Java API gives it, that counts the examples its readers (and those of its byte
     * ranges, the input splits) parse into {@code parsed}.
     */
    record Counting(TextFileSource inner, AtomicLong parsed) implements TextFileSource {
        @Override
        public Path file() {
            return inner.file();
        }

        @Override
        public TextFileSource range(long from, long to) {
            return new Counting(inner.range(from, to), parsed);
        }

        @Override
        public ByteRange byteRange() {
            return inner.byteRange();
        }

        @Override
        public DataSchema schema() {
            return inner.schema();
        }

        @Override
        public String describe() {
            return inner.describe();
        }

        @Override
        public ExampleReader open() throws IOException {
            return new ForwardingReader(inner.open()) {
                @Override
                public boolean readInto(Batch batch) throws IOException {
                    if (!inner.readInto(batch)) return false;
                    parsed.incrementAndGet();
                    return true;
                }
            };
        }
    }

    @Test
    void nTrainersParseTheFileOnceInAllAndTrainEveryExampleOncePerEpoch() throws Exception {
        DataSource file = csv();
        List<Integer> once = new ArrayList<>();
        for (int i = 0; i < N; i++) once.add(i);
        for (int trainers = 1; trainers <= 5; trainers++) {
            AtomicLong parsed = new AtomicLong();
            DataSource data = new Counting((TextFileSource) file, parsed);
            TrainerConfig c = new TrainerConfig(2, 8, 0, 1, DataSplit.ROUND_ROBIN, 5, 16, 100, false);
            List<Integer> all = new ArrayList<>();
            for (int t = 0; t < trainers; t++) all.addAll(TakeoverTest.drain(BatchSupply.ofTrainer(data, c, t, trainers)));
            Collections.sort(all);
            assertEquals(once, all, trainers + " trainers: every example once per epoch");
            assertEquals(N, parsed.get(), trainers + " trainers parse the file's lines once in all");
        }
    }

    /**
     * The acceptance check on parse work: N trainers given one plain file's source (no wrapper asking for splits) each
     * parse about 1/N of its lines, N of them the file's lines once in all. Reading every N-th line (the behaviour before
     * input splits, and what a single file's source got from the Java API) makes each trainer parse all N lines.
     */
    @Test
    void eachOfNTrainersParsesItsOwnNthOfAPlainFile() throws Exception {
        TextFileSource file = (TextFileSource) csv();
        TrainerConfig c = new TrainerConfig(1, 8, 0, 1, DataSplit.ROUND_ROBIN, 5, 16, 100, false);
        for (int trainers = 1; trainers <= 4; trainers++) {
            long total = 0;
            for (int t = 0; t < trainers; t++) {
                AtomicLong parsed = new AtomicLong();
                int trained = TakeoverTest.drain(BatchSupply.ofTrainer(new Counting(file, parsed), c, t, trainers)).size();
                assertEquals(trained, parsed.get(), trainers + " trainers: trainer " + t + " parses only the lines it trains");
                // rows of equal length: a byte range holds its share of the lines, give or take the one crossing its end
                assertTrue(Math.abs(parsed.get() - (double) N / trainers) <= 2.5,
                        trainers + " trainers: trainer " + t + " parsed " + parsed.get() + " of " + N + " lines");
                total += parsed.get();
            }
            assertEquals(N, total, trainers + " trainers parse the file's lines once in all");
        }
    }

    @ParameterizedTest
    @EnumSource(DataSplit.class)
    void splitSharesAreTakenOverExactly(DataSplit split) throws Exception {
        TakeoverTest.check(csv(), TakeoverTest.config(split, false));
    }
}
