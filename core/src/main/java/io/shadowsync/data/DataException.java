package io.shadowsync.data;

/**
 * Bad input data: names the file, the line (or record) and the reason, as {@code file:line: reason}.
 * Line 0 means the whole file (missing, empty, wrong format).
 */
public final class DataException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String file;
    private final long line;
    private final String reason;

    public DataException(String file, long line, String reason) {
        super(line > 0 ? file + ":" + line + ": " + reason : file + ": " + reason);
        this.file = file;
        this.line = line;
        this.reason = reason;
    }

    public DataException(String file, long line, String reason, Throwable cause) {
        this(file, line, reason);
        initCause(cause);
    }

    /**
     * Bad data at a byte offset, for a line whose number is unknown (an input split that starts inside a file does not
     * count the lines before it): {@code file: the line at byte B: reason}.
     */
    public static DataException atByte(String file, long offset, String reason) {
        return new DataException(file, 0, "the line at byte " + offset + ": " + reason, (Throwable) null);
    }

    public String file() {
        return file;
    }

    public long line() {
        return line;
    }

    public String reason() {
        return reason;
    }
}
