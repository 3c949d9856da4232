package io.shadowsync.spark;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FSInputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

/**
 * A Hadoop file system of the tests under the made-up scheme {@code memtest:}, kept in this JVM's memory and behaving
 * as an object store does where it matters to checkpoints: a file appears only when its writer closes it, whole;
 * there is no rename (it throws, and counts the attempt); directories are markers. Spark's executors in local mode
 * share the JVM, so the trainers, the servers and the test all see one store. Registered with
 * {@code fs.memtest.impl} ({@code spark.hadoop.fs.memtest.impl} in the session).
 */
public final class MemTestFileSystem extends FileSystem {
    static final String SCHEME = "memtest";
    private static final Map<String, byte[]> FILES = new ConcurrentHashMap<>();
    private static final Set<String> DIRS = ConcurrentHashMap.newKeySet();
    /** Renames asked of this file system (each refused). */
    static final AtomicInteger RENAMES = new AtomicInteger();

    private URI uri;
    private Path working = new Path("/");

    /** A Hadoop configuration with this file system registered. */
    static Configuration configuration() {
        Configuration c = new Configuration(false);
        c.set("fs." + SCHEME + ".impl", MemTestFileSystem.class.getName());
        return c;
    }

    /** The names of the files under prefix (a path such as /ck), for the tests. */
    static List<String> files(String prefix) {
        return FILES.keySet().stream().filter(k -> k.startsWith(prefix + "/")).sorted().toList();
    }

    @Override
    public void initialize(URI name, Configuration conf) throws IOException {
        super.initialize(name, conf);
        uri = URI.create(SCHEME + ":///");
        DIRS.add("/");
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    @Override
    public URI getUri() {
        return uri;
    }

    private String key(Path p) {
        String k = makeQualified(p).toUri().getPath();
        return k.length() > 1 && k.endsWith("/") ? k.substring(0, k.length() - 1) : k;
    }

    private static String parent(String k) {
        int i = k.lastIndexOf('/');
        return i <= 0 ? "/" : k.substring(0, i);
    }

    @Override
    public FSDataInputStream open(Path f, int bufferSize) throws IOException {
        byte[] data = FILES.get(key(f));
        if (data == null) throw new FileNotFoundException(f.toString());
        return new FSDataInputStream(new Bytes(data));
    }

    @Override
    public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite, int bufferSize, short replication, long blockSize,
                                     Progressable progress) throws IOException {
        String k = key(f);
        if (DIRS.contains(k)) throw new IOException(f + " is a directory");
        if (!overwrite && FILES.containsKey(k)) throw new FileAlreadyExistsException(f.toString());
        for (String d = parent(k); !d.equals("/"); d = parent(d)) DIRS.add(d);
        // visible when closed, whole, as an object store's upload
        ByteArrayOutputStream buffer = new ByteArrayOutputStream() {
            private boolean closed;

            @Override
            public void close() {
                if (closed) return;
                closed = true;
                FILES.put(k, toByteArray());
            }
        };
        return new FSDataOutputStream(buffer, statistics);
    }

    @Override
    public FSDataOutputStream append(Path f, int bufferSize, Progressable progress) throws IOException {
        throw new IOException("memtest: no append (an object store)");
    }

    @Override
    public boolean rename(Path src, Path dst) throws IOException {
        RENAMES.incrementAndGet();
        throw new UnsupportedOperationException("memtest: no rename (an object store)");
    }

    @Override
    public boolean delete(Path f, boolean recursive) throws IOException {
        String k = key(f);
        if (FILES.remove(k) != null) return true;
        if (!DIRS.contains(k)) return false;
        String prefix = k.equals("/") ? "/" : k + "/";
        boolean empty = FILES.keySet().stream().noneMatch(x -> x.startsWith(prefix)) && DIRS.stream().noneMatch(x -> x.startsWith(prefix));
        if (!empty && !recursive) throw new IOException(f + " is not empty");
        FILES.keySet().removeIf(x -> x.startsWith(prefix));
        DIRS.removeIf(x -> x.startsWith(prefix));
        DIRS.remove(k);
        return true;
    }

    @Override
    public FileStatus[] listStatus(Path f) throws IOException {
        String k = key(f);
        if (FILES.containsKey(k)) return new FileStatus[] {getFileStatus(f)};
        if (!DIRS.contains(k)) throw new FileNotFoundException(f.toString());
        List<FileStatus> out = new ArrayList<>();
        for (String x : FILES.keySet()) if (parent(x).equals(k)) out.add(status(x));
        for (String x : DIRS) if (!x.equals("/") && parent(x).equals(k)) out.add(status(x));
        return out.toArray(new FileStatus[0]);
    }

    private FileStatus status(String k) {
        Path p = makeQualified(new Path(k));
        byte[] data = FILES.get(k);
        return data != null ? new FileStatus(data.length, false, 1, 1 << 20, 0, p) : new FileStatus(0, true, 1, 0, 0, p);
    }

    @Override
    public void setWorkingDirectory(Path dir) {
        working = dir;
    }

    @Override
    public Path getWorkingDirectory() {
        return working;
    }

    @Override
    public boolean mkdirs(Path f, FsPermission permission) throws IOException {
        String k = key(f);
        if (FILES.containsKey(k)) throw new IOException(f + " is a file");
        for (String d = k; !d.equals("/"); d = parent(d)) DIRS.add(d);
        return true;
    }

    @Override
    public FileStatus getFileStatus(Path f) throws IOException {
        String k = key(f);
        if (!FILES.containsKey(k) && !DIRS.contains(k)) throw new FileNotFoundException(f.toString());
        return status(k);
    }

    /** A file's bytes as Hadoop's seekable stream. */
    private static final class Bytes extends FSInputStream {
        private final byte[] data;
        private int pos;

        Bytes(byte[] data) {
            this.data = data;
        }

        @Override
        public void seek(long p) throws IOException {
            if (p < 0 || p > data.length) throw new EOFException("seek to " + p + " of " + data.length);
            pos = (int) p;
        }

        @Override
        public long getPos() {
            return pos;
        }

        @Override
        public boolean seekToNewSource(long targetPos) {
            return false;
        }

        @Override
        public int read() {
            return pos < data.length ? data[pos++] & 0xFF : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) return 0;
            if (pos >= data.length) return -1;
            int n = Math.min(len, data.length - pos);
            System.arraycopy(data, pos, b, off, n);
            pos += n;
            return n;
        }
    }
}
