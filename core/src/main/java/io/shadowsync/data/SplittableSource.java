package io.shadowsync.data;

/**
 * Data that can be cut into parts each read on its own (input splits): part {@code index} of {@code count} parses only
 * its own bytes, so that {@code count} trainers together parse the data once, not {@code count} times.
 */
public interface SplittableSource extends DataSource {
    /**
     * Part {@code index} of {@code count} (0 ≤ index &lt; count): the parts are disjoint and together hold every example
     * once; the same arguments give the same part. A part may be empty (less data than parts).
     */
    DataSource share(int index, int count);

    /**
     * Whether each of count parts holds some of the data (the default): false where it cannot be cut that finely, as one
     * gzip file (read whole by one part) into two. Trainers then read all of it and keep every count-th example instead.
     */
    default boolean splitsInto(int count) {
        return true;
    }
}
