package io.shadowsync.spark;

import io.shadowsync.ckpt.CheckpointStore;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.StreamCapabilities;

/**
 * A checkpoint directory on any of Hadoop's file systems ({@code hdfs:}, {@code s3a:}, {@code abfs:}, {@code gs:},
 * ...), through its {@link FileSystem}, which Spark brings: what a Spark job's trainers and parameter servers write
 * their checkpoints through when {@code setCheckpointDir} names such a path.
 *
 * <ul>
 *   <li>Files are created with {@code overwrite=false}, and {@code hsync}ed (where the stream can) before they are
 *       closed; an object store's file is durable once its close has uploaded it.</li>
 *   <li>The manifest ({@link #publish}): on a file system whose rename is atomic (HDFS, {@code viewfs:},
 *       {@code webhdfs:}, {@code file:}) a temporary file, synced, renamed into place; on any other (object stores:
 *       S3A, GCS, Azure blob; their rename is a copy and a delete) it is written once, directly: an object appears
 *       whole when its upload completes. A manifest cut short anyway fails its own checksum and the checkpoint is
 *       taken as incomplete (the one before it is used).</li>
 *   <li>No lock ({@link #lock}): Hadoop's file systems have none that the holder's death releases (an HDFS lease
 *       outlives a killed writer by minutes; an object store has none), and a retried Spark stage must be able to
 *       take over from its killed attempt at once. One fit at a time per checkpoint directory is the user's to keep.</li>
 * </ul>
 */
final class HadoopCheckpointStore implements CheckpointStore {
    /** Schemes whose rename is atomic; any other is taken for an object store. */
    private static final Set<String> ATOMIC_RENAME = Set.of("hdfs", "viewfs", "webhdfs", "swebhdfs", "file");

    private final FileSystem fs;
    private final Path root;
    private final boolean atomicRename;

    /**
     * @param dir  a Hadoop path or URI ({@code hdfs://nn:8020/ckpt/ctr}, {@code s3a://bucket/ckpt})
     * @param conf the Hadoop configuration (Spark's, with its {@code spark.hadoop.*} settings)
     * @throws IllegalArgumentException when no file system serves the path's scheme, naming it
     */
    HadoopCheckpointStore(String dir, Configuration conf) {
        Path p = new Path(dir);
        try {
            this.fs = p.getFileSystem(conf);
        } catch (IOException e) {
            throw new IllegalArgumentException("checkpointDir '" + dir + "': no Hadoop file system for it (" + e.getMessage() + ")", e);
        }
        this.root = fs.makeQualified(p);
        String scheme = root.toUri().getScheme();
        this.atomicRename = scheme != null && ATOMIC_RENAME.contains(scheme.toLowerCase(Locale.ROOT));
    }

    /** Hadoop's configuration as bytes, to travel to the tasks inside the task closure. */
    static byte[] serialize(Configuration conf) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            conf.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** What {@link #serialize} wrote. */
    static Configuration configuration(byte[] bytes) {
        Configuration conf = new Configuration(false);
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            conf.readFields(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return conf;
    }

    private Path path(String name) {
        return name.isEmpty() ? root : new Path(root, name);
    }

    @Override
    public String location() {
        return root.toString();
    }

    @Override
    public boolean atomicRename() {
        return atomicRename;
    }

    @Override
    public void makeDirectories(String name) throws IOException {
        if (!fs.mkdirs(path(name))) throw new IOException(where(name) + ": could not create the directory");
    }

    @Override
    public void createDirectory(String name) throws IOException {
        Path p = path(name);
        if (fs.exists(p)) throw new FileAlreadyExistsException(where(name));
        if (!fs.mkdirs(p)) throw new IOException(where(name) + ": could not create the directory");
    }

    @Override
    public boolean isDirectory(String name) throws IOException {
        try {
            return fs.getFileStatus(path(name)).isDirectory();
        } catch (FileNotFoundException e) {
            return false;
        }
    }

    @Override
    public boolean exists(String name) throws IOException {
        return fs.exists(path(name));
    }

    @Override
    public List<String> list(String dir) throws IOException {
        List<String> out = new ArrayList<>();
        try {
            for (FileStatus s : fs.listStatus(path(dir))) out.add(s.getPath().getName());
        } catch (FileNotFoundException e) {
            // no directory: nothing in it
        }
        return out;
    }

    @Override
    public long size(String name) throws IOException {
        try {
            return fs.getFileStatus(path(name)).getLen();
        } catch (FileNotFoundException e) {
            throw missing(name, e);
        }
    }

    @Override
    public ReadableByteChannel read(String name) throws IOException {
        try {
            return Channels.newChannel(fs.open(path(name)));
        } catch (FileNotFoundException e) {
            throw missing(name, e);
        }
    }

    private NoSuchFileException missing(String name, FileNotFoundException e) {
        NoSuchFileException x = new NoSuchFileException(where(name));
        x.initCause(e);
        return x;
    }

    @Override
    public Output create(String name) throws IOException {
        FSDataOutputStream out;
        try {
            out = fs.create(path(name), false);
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
            FileAlreadyExistsException x = new FileAlreadyExistsException(where(name));
            x.initCause(e);
            throw x;
        }
        return new Output() {
            private boolean open = true;

            @Override
            public int write(ByteBuffer src) throws IOException {
                int n = src.remaining();
                if (src.hasArray()) {
                    out.write(src.array(), src.arrayOffset() + src.position(), n);
                    src.position(src.limit());
                } else {
                    byte[] chunk = new byte[Math.min(n, 1 << 16)];
                    while (src.hasRemaining()) {
                        int k = Math.min(chunk.length, src.remaining());
                        src.get(chunk, 0, k);
                        out.write(chunk, 0, k);
                    }
                }
                return n;
            }

            @Override
            public boolean isOpen() {
                return open;
            }

            @Override
            public void close() throws IOException {
                if (!open) return;
                open = false;
                out.close();
            }

            @Override
            public void finish() throws IOException {
                if (out.hasCapability(StreamCapabilities.HSYNC)) out.hsync();
                close();
            }
        };
    }

    @Override
    public void publish(String name, byte[] content) throws IOException {
        Path target = path(name);
        if (!atomicRename) {
            try (FSDataOutputStream out = fs.create(target, true)) {
                out.write(content);
            }
            return;
        }
        Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp-" + UUID.randomUUID());
        try {
            try (FSDataOutputStream out = fs.create(tmp, false)) {
                out.write(content);
                if (out.hasCapability(StreamCapabilities.HSYNC)) out.hsync();
            }
            if (!fs.rename(tmp, target)) throw new IOException("could not rename " + tmp + " to " + target + " (does it exist?)");
        } finally {
            fs.delete(tmp, false);
        }
    }

    @Override
    public boolean delete(String name) throws IOException {
        return fs.delete(path(name), false);
    }

    @Override
    public void deleteTree(String name) throws IOException {
        fs.delete(path(name), true);
    }

    @Override
    public void syncDirectory(String dir) {
        // Hadoop's file systems make a rename or a closed file durable themselves
    }

    /** None (see the class comment): a lock that does nothing. */
    @Override
    public AutoCloseable lock() throws IOException {
        fs.mkdirs(root);
        return () -> {};
    }

    @Override
    public String toString() {
        return location();
    }
}
