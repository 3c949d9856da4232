/**
 * How the processes of a job find each other, and how elastic trainers come and go. A {@link Coordinator}, served by
 * one process (the launcher, or trainer 0), expects T trainers and S parameter servers; each process calls
 * {@link Rendezvous#join}, which retries until the coordinator answers, and gets the job's {@link Membership}: every
 * trainer's and server's address, in order. A membership can also be given on the command line
 * ({@link Membership#fromStatic}). For elastic jobs the {@link Groups} service, beside the coordinator, keeps the
 * members of each epoch and re-forms the group when a member fails or straggles, or when trainers wait to join;
 * {@link ElasticRing} is one trainer's {@link io.shadowsync.comm.ElasticGroup} over a
 * {@link io.shadowsync.net.coll.NetCollective} ring of the current epoch. {@link RendezvousException} says why a
 * process could not join; {@link JobFinishedException} tells a late trainer that the job is over.
 *
 * <p>Contracts: the coordinator refuses, at once and naming both processes, a process whose configuration digest
 * differs from the first joiner's, and when its timeout passes tells every waiting process who never arrived.
 * {@code Coordinator} and {@code Groups} are thread-safe under one monitor each and own a timer thread that
 * {@code close()} ends. Rank 0 of every epoch is a member that already had the state (unless every earlier member is
 * gone), so newcomers receive it from there. An {@code ElasticRing} is used by one thread at a time, like every
 * collective, beside its own background poller. Start with {@link Coordinator} and {@link Rendezvous}, then
 * {@link Groups} and {@link ElasticRing}.
 */
package io.shadowsync.net.rdv;
