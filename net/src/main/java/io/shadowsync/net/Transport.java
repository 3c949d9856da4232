package io.shadowsync.net;

import io.grpc.BindableService;
import java.io.InputStream;
import java.io.ByteArrayInputStream;
import io.grpc.StatusRuntimeException;
import io.grpc.ServerMethodDefinition;
import io.grpc.MethodDescriptor;
import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.ForwardingServerCallListener;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.ServerCallHandler;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Servers and channels built one way for the whole job: the bind policy (loopback unless authenticated), the
 * shared-token check on every call (constant time), mutual TLS, keepalives that notice a vanished peer within
 * seconds, and message size limits. Every gRPC server and channel of shadowsync comes from here.
 *
 * <p>Every server also answers the standard {@code grpc.health.v1.Health} service (for Kubernetes gRPC probes,
 * {@code grpc_health_probe}): {@code SERVING} for the server as a whole ({@code ""}) and for each of its services
 * once it has started, {@code NOT_SERVING} from the moment it is shut down. Health calls need no token (probes do not
 * carry one); every other call still does.
 */
public final class Transport {
    /** The metadata header carrying the job's shared token. */
    public static final Metadata.Key<String> TOKEN = Metadata.Key.of("x-shadowsync-token", Metadata.ASCII_STRING_MARSHALLER);

    private final NetConfig config;
    private final byte[] token;
    private final AtomicLong refused = new AtomicLong();

    public Transport(NetConfig config) {
        this.config = config;
        this.token = config.tokenFile() == null ? null : TokenFile.read(config.tokenFile());
    }

    public NetConfig config() {
        return config;
    }

    /** Calls refused for a missing or wrong token so far. */
    public long refusedCalls() {
        return refused.get();
    }

    /**
     * Starts a server on {@code bindHost:port} (0 = a free port chosen now) with the given services.
     *
     * @throws IllegalArgumentException when the bind address is not loopback and neither a token nor TLS is set
     */
    public Server serve(int port, List<? extends BindableService> services) throws IOException {
        return serve(port, services, List.of());
    }

    /**
     * As {@link #serve(int, List)}, with stream tracers that see every call's final status, including calls
     * refused before they reach a service (a missing or wrong token, a message over the size limit), so that a
     * server can count them.
     */
    public Server serve(int port, List<? extends BindableService> services, List<? extends ServerStreamTracer.Factory> tracers)
            throws IOException {
        InetAddress addr = resolve(config.bindHost());
        if (!addr.isLoopbackAddress() && token == null && !config.tls()) {
            throw new IllegalArgumentException("refusing to listen on " + config.bindHost() + " without authentication: "
                    + "anyone who can reach it could read and overwrite the model. Give --token-file FILE (a shared secret) "
                    + "or --tls-cert/--tls-key/--tls-ca (mutual TLS), or listen on 127.0.0.1");
        }
        ServerCredentials creds = config.tls() ? serverTls() : InsecureServerCredentials.create();
        NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress(addr, port), creds)
                .maxInboundMessageSize(config.maxMessageBytes())
                .keepAliveTime(config.keepalive().toMillis(), TimeUnit.MILLISECONDS)
                .keepAliveTimeout(config.keepaliveTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .permitKeepAliveTime(Math.min(1000, config.keepalive().toMillis()), TimeUnit.MILLISECONDS)
                .permitKeepAliveWithoutCalls(true)
                .flowControlWindow(8 << 20);
        for (ServerStreamTracer.Factory f : tracers) b.addStreamTracerFactory(f);
        ServerInterceptor auth = token == null ? null : new TokenCheck();
        Set<String> inline = new HashSet<>();
        HealthStatusManager health = new HealthStatusManager();
        // outside the token check: a probe carries no token, and the answer tells nothing but "up" or "going"
        b.addService(health.getHealthService());
        for (BindableService s : services) {
            ServerServiceDefinition def = refuseUndecodable(s.bindService());
            if (s instanceof InlineService) inline.add(def.getServiceDescriptor().getName());
            b.addService(auth == null ? def : ServerInterceptors.intercept(def, auth));
            health.setStatus(def.getServiceDescriptor().getName(), ServingStatus.SERVING);
        }
        if (!inline.isEmpty()) b.callExecutor(new InlineCalls(inline));
        return new HealthReporting(b.build().start(), health);
    }

    /**
     * A started server whose health service says {@code NOT_SERVING} (for good: a stopped server does not come back)
     * from the moment {@link #shutdown} or {@link #shutdownNow} is called, so that a probe sees it going while calls
     * in flight still finish.
     */
    private static final class HealthReporting extends Server {
        private final Server server;
        private final HealthStatusManager health;

        HealthReporting(Server server, HealthStatusManager health) {
            this.server = server;
            this.health = health;
        }

        @Override
        public Server start() throws IOException {
            server.start();
            return this;
        }

        @Override
        public int getPort() {
            return server.getPort();
        }

        @Override
        public List<? extends SocketAddress> getListenSockets() {
            return server.getListenSockets();
        }

        @Override
        public List<ServerServiceDefinition> getServices() {
            return server.getServices();
        }

        @Override
        public List<ServerServiceDefinition> getImmutableServices() {
            return server.getImmutableServices();
        }

        @Override
        public List<ServerServiceDefinition> getMutableServices() {
            return server.getMutableServices();
        }

        @Override
        public Server shutdown() {
            health.enterTerminalState();
            server.shutdown();
            return this;
        }

        @Override
        public Server shutdownNow() {
            health.enterTerminalState();
            server.shutdownNow();
            return this;
        }

        @Override
        public boolean isShutdown() {
            return server.isShutdown();
        }

        @Override
        public boolean isTerminated() {
            return server.isTerminated();
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
            return server.awaitTermination(timeout, unit);
        }

        @Override
        public void awaitTermination() throws InterruptedException {
            server.awaitTermination();
        }

        @Override
        public String toString() {
            return server.toString();
        }
    }

    /**
     * A unary request that is not a protobuf message of its type is answered {@code INVALID_ARGUMENT} with the reason
     * (gRPC itself would answer {@code UNKNOWN}, "application error", and log it as a server failure). The service
     * receives its requests as bytes and decodes them in a listener this interceptor guards: for a unary call that
     * decoding is all {@code onMessage} does. Streaming methods (the ring's own frame codec, the parameter servers'
     * row streams) are left as they are: a stream ends on a message it cannot decode.
     */
    private static ServerServiceDefinition refuseUndecodable(ServerServiceDefinition def) {
        ServerServiceDefinition checked = ServerInterceptors.intercept(ServerInterceptors.useMarshalledMessages(def, RAW_BYTES), new DecodeCheck());
        boolean anyStream = false, anyUnary = false;
        for (ServerMethodDefinition<?, ?> m : def.getMethods()) {
            boolean unary = m.getMethodDescriptor().getType() == MethodDescriptor.MethodType.UNARY;
            anyStream |= !unary;
            anyUnary |= unary;
        }
        if (!anyStream) return checked;
        if (!anyUnary) return def;
        ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(def.getServiceDescriptor().getName());
        for (ServerMethodDefinition<?, ?> m : def.getMethods()) {
            String name = m.getMethodDescriptor().getFullMethodName();
            if (m.getMethodDescriptor().getType() == MethodDescriptor.MethodType.UNARY) b.addMethod(checked.getMethod(name));
            else b.addMethod(m);
        }
        return b.build();
    }

    /**
     * A message as its bytes, unparsed: what the transport reads a unary request as before it checks that it decodes
     * (and what a client that must send arbitrary bytes, such as a fuzz test, calls with).
     */
    public static final MethodDescriptor.Marshaller<byte[]> RAW_BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw Status.INTERNAL.withDescription("cannot read the request: " + e.getMessage()).asRuntimeException();
            }
        }
    };

    private static final class DecodeCheck implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
                private boolean refused;

                @Override
                public void onMessage(Q message) {
                    try {
                        super.onMessage(message);
                    } catch (RuntimeException e) {
                        refused = true;
                        String why = e instanceof StatusRuntimeException s && s.getStatus().getDescription() != null
                                ? s.getStatus().getDescription() : e.toString();
                        call.close(Status.INVALID_ARGUMENT.withDescription("the request is not a valid "
                                + call.getMethodDescriptor().getFullMethodName() + " message: " + why), new Metadata());
                    }
                }

                @Override
                public void onHalfClose() {
                    if (!refused) super.onHalfClose();
                }
            };
        }
    }

    /**
     * A service whose handlers never block and return quickly (they hand each message to another thread): {@link
     * #serve} runs its calls on the transport's own threads instead of the server's executor, which saves a thread
     * hand-off per message on a stream that carries thousands of them (the ring collective's).
     */
    public interface InlineService extends BindableService {}

    /** Runs the calls of {@link InlineService}s where the transport delivers them; others on the default executor. */
    private record InlineCalls(Set<String> services) implements ServerCallExecutorSupplier {
        @Override
        public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
            return services.contains(call.getMethodDescriptor().getServiceName()) ? Runnable::run : null;
        }
    }

    /** A channel to {@code host:port} with this job's credentials, keepalives and size limits. */
    public ManagedChannel channel(String hostPort) {
        HostPort hp = HostPort.parse(hostPort);
        ChannelCredentials creds = config.tls() ? channelTls() : InsecureChannelCredentials.create();
        return NettyChannelBuilder.forAddress(hp.host(), hp.port(), creds)
                .maxInboundMessageSize(config.maxMessageBytes())
                .keepAliveTime(config.keepalive().toMillis(), TimeUnit.MILLISECONDS)
                .keepAliveTimeout(config.keepaliveTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .keepAliveWithoutCalls(true)
                .flowControlWindow(8 << 20)
                // every client callback of ours only completes a future or hands a message on: run it where the
                // transport delivers it, one thread hand-off less per call
                .directExecutor()
                .build();
    }

    /**
     * HMAC-SHA256 of {@code message} keyed by the job's token (by a fixed key when the job has none): what a peer shows
     * to prove it holds the token without sending it, on a connection that is not a gRPC call (the ring's data plane).
     * Compare two proofs with {@link MessageDigest#isEqual}, which takes the same time wherever they differ.
     */
    public byte[] prove(byte[] message) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(token == null ? NO_TOKEN : token, "HmacSHA256"));
            return mac.doFinal(message);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot compute HMAC-SHA256: " + e.getMessage(), e);
        }
    }

    private static final byte[] NO_TOKEN = "shadowsync: this job has no token".getBytes(StandardCharsets.US_ASCII);

    /** Credentials to attach to every stub ({@code stub.withCallCredentials(...)}); null when no token is set. */
    public CallCredentials callCredentials() {
        if (token == null) return null;
        String value = new String(token, StandardCharsets.US_ASCII);
        return new CallCredentials() {
            @Override
            public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
                Metadata m = new Metadata();
                m.put(TOKEN, value);
                applier.apply(m);
            }
        };
    }

    private ServerCredentials serverTls() {
        try {
            return TlsServerCredentials.newBuilder()
                    .keyManager(config.tlsCert().toFile(), config.tlsKey().toFile())
                    .trustManager(config.tlsCa().toFile())
                    .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
                    .build();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot load TLS files (--tls-cert " + config.tlsCert() + ", --tls-key "
                    + config.tlsKey() + ", --tls-ca " + config.tlsCa() + "): " + e.getMessage(), e);
        }
    }

    private ChannelCredentials channelTls() {
        try {
            return TlsChannelCredentials.newBuilder()
                    .keyManager(config.tlsCert().toFile(), config.tlsKey().toFile())
                    .trustManager(config.tlsCa().toFile())
                    .build();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot load TLS files (--tls-cert " + config.tlsCert() + ", --tls-key "
                    + config.tlsKey() + ", --tls-ca " + config.tlsCa() + "): " + e.getMessage(), e);
        }
    }

    private static InetAddress resolve(String host) {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve the bind address " + host, e);
        }
    }

    /** Refuses a call whose token is missing or differs; the comparison takes the same time wherever they differ. */
    private final class TokenCheck implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            String given = headers.get(TOKEN);
            boolean ok = given != null && MessageDigest.isEqual(token, given.getBytes(StandardCharsets.US_ASCII));
            if (!ok) {
                refused.incrementAndGet();
                call.close(Status.UNAUTHENTICATED.withDescription(given == null
                        ? "no shadowsync token: this server needs the job's shared token (--token-file)"
                        : "wrong shadowsync token"), new Metadata());
                return new ServerCall.Listener<>() { };
            }
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) { };
        }
    }
}
