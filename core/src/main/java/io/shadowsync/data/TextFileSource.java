package io.shadowsync.data;

import java.nio.file.Path;
import java.util.List;

/**
 * A line-per-example format on one file (Criteo TSV, LibSVM, CSV) that can read a byte range of a plain file: the
 * pieces {@link TextFiles} cuts a data set into.
 */
public interface TextFileSource extends SplittableSource {
    Path file();

    /**
     * The lines of this (plain, not gzip) file in the byte range {@code [from, to)}, as Hadoop's input splits: from 0,
     * the lines that start at or before {@code to}; else those after the first newline at or after {@code from}
     * through the one that starts at {@code to}. Ranges {@code [a, b)} and {@code [b, c)} read every line once.
     */
    TextFileSource range(long from, long to);

    /** The byte range of its file this source reads (see {@link #range}): {@code [0, Long.MAX_VALUE)} for the whole file. */
    ByteRange byteRange();

    /** Bytes {@code [from, to)} of a file. */
    record ByteRange(long from, long to) {}

    /** Part index of count of this one file: its byte range, or (gzip) all of it or nothing. */
    @Override
    default DataSource share(int index, int count) {
        return TextFiles.of(List.of(this)).share(index, count);
    }

    /** True for a plain file; a gzip file goes whole to one part, so not into two or more. */
    @Override
    default boolean splitsInto(int count) {
        return TextFiles.of(List.of(this)).splitsInto(count);
    }
}
