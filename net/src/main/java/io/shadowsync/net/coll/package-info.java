/**
 * Collectives among ranks in different processes. {@link NetCollective#join} gives a rank its
 * {@link io.shadowsync.comm.Collective}: core's {@link io.shadowsync.comm.RingCollective} schedule and float
 * arithmetic, run over {@code NetRingLink}, one gRPC stream from each rank to its right neighbour, so the results are
 * bit for bit those of the in-process ring for the same group size, length and inputs. The messages themselves
 * travel on a raw TCP connection beside each stream ({@code SocketPlane}: {@code SocketOut} writes, {@code SocketIn}
 * reads into reused direct buffers), proved by the job's token with an HMAC challenge-response; the gRPC stream stays
 * for control, and carries the messages too under TLS. A pairwise exchange goes on direct connections between the
 * two ranks of each pair instead (opened on first use to the peer's data port, proved by the token and a ticket the
 * peer shared over the ring, and kept), so a rank sends its own vector once and relays none. {@link RingEndpoint} (one per
 * process, served beside its other services) receives every incoming ring stream of the process and routes it by the
 * (group, rank) its first frame names, so one process hosts ranks of several groups. {@code FrameMarshaller} reads a
 * frame's floats straight out of the transport's buffers, without copying them into a message first.
 *
 * <p>Contracts: a rank's collective is used by one thread at a time; gRPC's callbacks only change state under a short
 * lock and signal that thread, and both directions are flow-controlled, so at most a window of frames waits at a
 * receiver. A failure in any rank (a mismatch, a timeout, an interrupt, a neighbour gone) fails the group: aborts
 * travel around the ring both ways, and every rank blocked in an operation wakes with an exception that names the rank
 * that failed and its address. Start with {@link NetCollective}, then {@code NetRingLink}, then {@code SocketPlane}.
 */
package io.shadowsync.net.coll;
