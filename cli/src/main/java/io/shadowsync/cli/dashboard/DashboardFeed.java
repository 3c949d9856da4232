package io.shadowsync.cli.dashboard;

import io.shadowsync.metrics.JsonlMetricsFile;
import io.shadowsync.metrics.MetricsSink;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The records of a running job for the pages that watch it: a {@link MetricsSink} that keeps a history (for a page
 * opened later) and puts each record, as one line of JSON, into the queue of every open page.
 *
 * <p>Sharing contract: {@link #accept} runs on the metrics log's sampler thread and never waits for a page. Each
 * {@link Subscriber}'s queue is bounded; when a page reads slower than records come, its oldest unread records are
 * dropped (and counted), not the sampler delayed. A page's own thread takes lines with {@link Subscriber#next}.
 *
 * <p>The history keeps at most {@code maxHistory} lines: when it is full, every second {@code train} record of
 * each trainer is dropped from it (and from then on only every second one kept, then every fourth...), so that a page
 * opened late still sees the whole run, coarser; {@code eval} records are all kept. Pages already open get every
 * record.
 */
public final class DashboardFeed implements MetricsSink, AutoCloseable {
    /** Lines kept for pages opened later, by default. */
    public static final int DEFAULT_HISTORY = 20_000;
    /** Unread lines a page may fall behind by before its oldest are dropped, by default. */
    public static final int DEFAULT_QUEUE = 4_096;
    private static final long MAX_STRIDE = 1L << 40;

    /** A kept line: its series' running index (to thin the history evenly per trainer), and whether it is never thinned. */
    private record Kept(String line, long index, boolean always) {}

    private final int maxHistory;
    private final int queueCapacity;
    private final Object lock = new Object();
    private final List<Kept> history = new ArrayList<>();
    private final Map<String, Long> seriesCounts = new HashMap<>();
    private final List<Subscriber> subscribers = new ArrayList<>();
    private long stride = 1;
    private long records;
    private boolean closed;

    public DashboardFeed() {
        this(DEFAULT_HISTORY, DEFAULT_QUEUE);
    }

    public DashboardFeed(int maxHistory, int queueCapacity) {
        if (maxHistory < 1) throw new IllegalArgumentException("the dashboard's history holds at least 1 record, got " + maxHistory);
        if (queueCapacity < 1) throw new IllegalArgumentException("a dashboard page's queue holds at least 1 record, got " + queueCapacity);
        this.maxHistory = maxHistory;
        this.queueCapacity = queueCapacity;
    }

    /** Keeps the record and hands it to every open page; never blocks on a page, never throws for one. */
    @Override
    public void accept(Map<String, Object> record) {
        String line = JsonlMetricsFile.line(record);
        Object type = record.get("type");
        synchronized (lock) {
            if (closed) return;
            records++;
            remember(line, type + "/" + record.get("trainer"), !"train".equals(type));
            for (Subscriber s : subscribers) s.offer(line);
        }
    }

    private void remember(String line, String series, boolean always) {
        long index = seriesCounts.merge(series, 1L, Long::sum) - 1;
        if (!always && index % stride != 0) return;
        history.add(new Kept(line, index, always));
        if (history.size() <= maxHistory) return;
        if (stride < MAX_STRIDE) {
            stride *= 2;
            long s = stride;
            history.removeIf(k -> !k.always() && k.index() % s != 0);
        }
        if (history.size() > maxHistory) history.subList(0, history.size() - maxHistory).clear(); // evaluations alone past the cap
    }

    /** Records received so far. */
    public long records() {
        synchronized (lock) {
            return records;
        }
    }

    /** Lines a newly opened page would receive now. */
    public int historySize() {
        synchronized (lock) {
            return history.size();
        }
    }

    /**
     * A new page: it first receives the history up to now ({@link Subscriber#replay}), then every later record, with
     * none lost or repeated between the two. Close it when the page goes.
     */
    public Subscriber subscribe() {
        synchronized (lock) {
            List<String> replay = new ArrayList<>(history.size());
            for (Kept k : history) replay.add(k.line());
            Subscriber s = new Subscriber(replay, queueCapacity);
            if (closed) s.end();
            else subscribers.add(s);
            return s;
        }
    }

    /** The job is over: every page gets what is queued for it, then the end; records that come later are ignored. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) return;
            closed = true;
            for (Subscriber s : subscribers) s.end();
            subscribers.clear();
        }
    }

    private void unsubscribe(Subscriber s) {
        synchronized (lock) {
            subscribers.remove(s);
        }
    }

    /** One open page's view of the feed: written by the sampler thread, read by the page's own thread. */
    public final class Subscriber implements AutoCloseable {
        private final List<String> replay;
        private final ArrayDeque<String> queue = new ArrayDeque<>();
        private final int capacity;
        private long dropped;
        private boolean ended;

        private Subscriber(List<String> replay, int capacity) {
            this.replay = replay;
            this.capacity = capacity;
        }

        /** The history at the moment this page subscribed, oldest first. */
        public List<String> replay() {
            return replay;
        }

        private synchronized void offer(String line) {
            if (queue.size() == capacity) {
                queue.pollFirst();
                dropped++;
            }
            queue.addLast(line);
            notifyAll();
        }

        private synchronized void end() {
            ended = true;
            notifyAll();
        }

        /**
         * The next record's line, waiting up to {@code timeoutMillis} for one: null when none came in that time, or when
         * the job is over and every queued line has been taken ({@link #ended()} tells the two apart).
         */
        public synchronized String next(long timeoutMillis) throws InterruptedException {
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
            while (queue.isEmpty() && !ended) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return null;
                wait(Math.max(1, left / 1_000_000));
            }
            return queue.pollFirst();
        }

        /** The queued lines, oldest first, without waiting (possibly none). */
        public synchronized List<String> drain() {
            List<String> out = new ArrayList<>(queue);
            queue.clear();
            return out;
        }

        /** True once the job is over and this page has taken every line queued for it. */
        public synchronized boolean ended() {
            return ended && queue.isEmpty();
        }

        /** Records this page missed because it read too slowly. */
        public synchronized long dropped() {
            return dropped;
        }

        @Override
        public void close() {
            unsubscribe(this);
        }
    }
}
