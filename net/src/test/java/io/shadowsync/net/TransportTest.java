package io.shadowsync.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.shadowsync.comm.Collective;
import io.shadowsync.net.coll.NetCollective;
import io.shadowsync.net.coll.RingEndpoint;
import io.shadowsync.net.proto.Empty;
import io.shadowsync.net.proto.PsAdminGrpc;
import io.shadowsync.net.ps.PsServer;
import io.shadowsync.net.ps.PsShardSpec;
import io.shadowsync.net.ps.RemoteEmbeddingStore;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The transport's bind policy, shared token and mutual TLS, seen through a parameter-server node. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TransportTest {
    private static final long[][] SHAPES = {{10, 4}};
    private static final float[] STDS = {0.2f};
    private static final EmbeddingOptimizerSpec SGD = new EmbeddingOptimizerSpec("sgd", 0.1);
    private static final PsShardSpec ONE_NODE = new PsShardSpec(SHAPES, STDS, 3, SGD, null, null, 0, 1);

    private Path dir;

    @BeforeEach
    void tempDir() throws IOException {
        dir = Files.createTempDirectory("transport-test");
    }

    @AfterEach
    void removeTempDir() throws IOException {
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) Files.delete(p);
        }
        Files.delete(dir);
    }

    @Test
    void aServerOnANonLoopbackAddressNeedsATokenOrTls() {
        Transport open = new Transport(NetConfig.LOOPBACK.withBindHost("0.0.0.0"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PsServer.start(open, 0, ONE_NODE));
        assertTrue(e.getMessage().startsWith("refusing to listen on 0.0.0.0 without authentication"), e.getMessage());
        assertTrue(e.getMessage().contains("--token-file"), e.getMessage());
    }

    @Test
    void aTokenShorterThan16CharactersIsRefused() throws IOException {
        Path token = dir.resolve("short.token");
        Files.writeString(token, "abc\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Transport(NetConfig.LOOPBACK.withToken(token)));
        assertTrue(e.getMessage().contains("needs at least 16"), e.getMessage());
    }

    @Test
    void theRightTokenIsAcceptedAndAnyOtherRefused() throws Exception {
        Path good = dir.resolve("good.token"), bad = dir.resolve("bad.token");
        Files.writeString(good, "shared-secret-of-the-job-0001\n");
        Files.writeString(bad, "shared-secret-of-the-job-0002\n");
        Transport server = new Transport(NetConfig.LOOPBACK.withToken(good));
        try (PsServer ps = PsServer.start(server, 0, ONE_NODE)) {
            List<HostPort> addr = List.of(new HostPort("127.0.0.1", ps.port()));
            try (RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(new Transport(NetConfig.LOOPBACK.withToken(good)), addr)) {
                assertEquals(10, store.rows(0));
            }
            Transport wrong = new Transport(NetConfig.LOOPBACK.withToken(bad).withCallDeadline(Duration.ofSeconds(5)));
            RuntimeException e = assertThrows(RuntimeException.class, () -> RemoteEmbeddingStore.connect(wrong, addr));
            assertTrue(e.getMessage().contains("refused this client's credentials: wrong shadowsync token"), e.getMessage());
            assertEquals(1, server.refusedCalls());
        }
    }

    @Test
    void mutualTlsServesCertifiedClientsAndRefusesOthers() throws Exception {
        KeyPair caKeys = keys(), serverKeys = keys(), clientKeys = keys(), strangerKeys = keys();
        X509Certificate ca = certificate("CN=shadowsync test CA", caKeys, "CN=shadowsync test CA", caKeys.getPrivate(), true);
        X509Certificate serverCert = certificate("CN=ps-0", serverKeys, "CN=shadowsync test CA", caKeys.getPrivate(), false);
        X509Certificate clientCert = certificate("CN=trainer-0", clientKeys, "CN=shadowsync test CA", caKeys.getPrivate(), false);
        X509Certificate strangerCert = certificate("CN=stranger", strangerKeys, "CN=stranger", strangerKeys.getPrivate(), false);
        Path caPem = pem("ca.pem", ca);
        Transport serverSide = new Transport(NetConfig.LOOPBACK.withTls(pem("server.pem", serverCert),
                pem("server.key", serverKeys.getPrivate()), caPem));
        Transport clientSide = new Transport(NetConfig.LOOPBACK.withTls(pem("client.pem", clientCert),
                pem("client.key", clientKeys.getPrivate()), caPem).withCallDeadline(Duration.ofSeconds(10)));
        try (PsServer ps = PsServer.start(serverSide, 0, ONE_NODE)) {
            List<HostPort> addr = List.of(new HostPort("127.0.0.1", ps.port()));
            try (RemoteEmbeddingStore store = RemoteEmbeddingStore.connect(clientSide, addr)) {
                float[] rows = new float[2 * 4];
                store.pull(0, new int[] {3, 9}, 0, 2, rows, 0);
                float[] expect = new float[2 * 4];
                new LocalEmbeddingStore(SHAPES, STDS, 3, SGD).pull(0, new int[] {3, 9}, 0, 2, expect, 0);
                assertArrayEquals(expect, rows);
            }
            // a client that trusts the server but shows no certificate of its own
            assertRefused(TlsChannelCredentials.newBuilder().trustManager(caPem.toFile()).build(), ps.port());
            // a client whose certificate no CA the server trusts has signed
            assertRefused(TlsChannelCredentials.newBuilder().trustManager(caPem.toFile())
                    .keyManager(pem("stranger.pem", strangerCert).toFile(), pem("stranger.key", strangerKeys.getPrivate()).toFile())
                    .build(), ps.port());
        }
    }

    /**
     * Under TLS the ring has no raw data connection: both ranks' messages stay on their encrypted gRPC streams, and the
     * allreduce still sums. Caught: a data plane that would carry a TLS job's model in the clear.
     */
    @Test
    void aRingUnderTlsKeepsItsMessagesOnTheEncryptedStreams() throws Exception {
        KeyPair caKeys = keys(), a = keys(), b = keys();
        X509Certificate ca = certificate("CN=shadowsync test CA", caKeys, "CN=shadowsync test CA", caKeys.getPrivate(), true);
        Path caPem = pem("ca.pem", ca);
        Transport[] t = {
            new Transport(NetConfig.LOOPBACK.withTls(pem("a.pem", certificate("CN=a", a, "CN=shadowsync test CA", caKeys.getPrivate(),
                    false)), pem("a.key", a.getPrivate()), caPem)),
            new Transport(NetConfig.LOOPBACK.withTls(pem("b.pem", certificate("CN=b", b, "CN=shadowsync test CA", caKeys.getPrivate(),
                    false)), pem("b.key", b.getPrivate()), caPem))};
        RingEndpoint[] ends = {new RingEndpoint(), new RingEndpoint()};
        io.grpc.Server[] servers = {t[0].serve(0, List.of(ends[0])), t[1].serve(0, List.of(ends[1]))};
        List<HostPort> addr = List.of(new HostPort("127.0.0.1", servers[0].getPort()), new HostPort("127.0.0.1", servers[1].getPort()));
        Collective[] c = new Collective[2];
        try {
            for (int r = 0; r < 2; r++) c[r] = NetCollective.join(t[r], ends[r], "tls", r, addr, Duration.ofSeconds(30));
            float[][] x = {{1, 2}, {10, 20}};
            Thread other = Thread.ofPlatform().start(() -> {
                try {
                    c[1].allReduce(x[1], 0, 2, Collective.ReduceOp.SUM);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            c[0].allReduce(x[0], 0, 2, Collective.ReduceOp.SUM);
            other.join(30_000);
            for (int r = 0; r < 2; r++) {
                assertArrayEquals(new float[] {11, 22}, x[r], "rank " + r);
                assertTrue(c[r].toString().contains("gRPC ring"), c[r].toString());
            }
        } finally {
            for (Collective x : c) if (x != null) x.close();
            for (RingEndpoint e : ends) e.close();
            for (io.grpc.Server s : servers) s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static void assertRefused(io.grpc.ChannelCredentials creds, int port) throws InterruptedException {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port, creds).build();
        try {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> PsAdminGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(10, TimeUnit.SECONDS).describe(Empty.getDefaultInstance()));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.getMessage());
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static KeyPair keys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        return g.generateKeyPair();
    }

    /** A certificate for subject's key signed by issuerKey: a CA, or a leaf for 127.0.0.1 usable by servers and clients. */
    private static X509Certificate certificate(String subject, KeyPair subjectKeys, String issuer, PrivateKey issuerKey, boolean ca)
            throws Exception {
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name(issuer), BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(3600)), new X500Name(subject), subjectKeys.getPublic());
        if (ca) {
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } else {
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
            b.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(GeneralName.iPAddress, "127.0.0.1")));
        }
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
    }

    private Path pem(String name, Object value) throws IOException {
        Path p = dir.resolve(name);
        try (Writer w = Files.newBufferedWriter(p); JcaPEMWriter pw = new JcaPEMWriter(w)) {
            pw.writeObject(value instanceof PrivateKey k ? new JcaPKCS8Generator(k, null) : value);
        }
        return p;
    }
}
