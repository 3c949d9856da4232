package io.shadowsync.cli;

import io.shadowsync.net.ProcessEnv;
import io.shadowsync.net.rdv.Role;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code shadowsync node [JOB.yaml] [train flags] [--listen ...]}: one process of a multi-process job whose role,
 * rank, counts and coordinator come from the environment ({@link ProcessEnv}), so that a launcher (a Kubernetes indexed
 * Job, torchrun) starts every process with the same command line. It runs {@code trainer --rank I} or
 * {@code ps --shard I} with what it resolved.
 */
@Command(name = "node", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Run one process of a multi-process job, trainer or parameter server as the environment says "
                + "(SHADOWSYNC_ROLE, SHADOWSYNC_RANK / RANK / JOB_COMPLETION_INDEX, ...; see docs/multi-process.md): one command line for every process.",
                "Takes every flag trainer and ps take, except --rank and --shard."})
public final class NodeCommand extends JobCommand implements Callable<Integer> {
    @Mixin
    NetOptions net = new NetOptions();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        var parsed = spec.commandLine().getParseResult();
        ProcessEnv.Resolved r = FromEnvironment.apply(this, net, null, null, null, false);
        boolean trainer = r.role() == Role.TRAINER;
        List<String> args = new ArrayList<>();
        args.add(trainer ? "trainer" : "ps");
        List<String> original = parsed.originalArgs();
        args.addAll(original.subList(original.indexOf("node") + 1, original.size()));
        args.addAll(List.of(trainer ? "--rank" : "--shard", Integer.toString(r.index())));
        // what the environment gave, as flags: the command below reads them as given
        if (!parsed.hasMatchedOption("--trainers")) args.addAll(List.of("--trainers", Integer.toString(r.trainers())));
        if (!parsed.hasMatchedOption("--ps-shards")) args.addAll(List.of("--ps-shards", Integer.toString(r.psShards())));
        if (r.coordinator() != null && !parsed.hasMatchedOption("--coordinator")) args.addAll(List.of("--coordinator", r.coordinator()));
        if (net.startCoordinator && !parsed.hasMatchedOption("--start-coordinator")) args.add("--start-coordinator");
        if (r.advertise() != null && !parsed.hasMatchedOption("--advertise")) args.addAll(List.of("--advertise", r.advertise()));
        err.println("shadowsync node: " + r.from() + ": " + (trainer ? "trainer " : "parameter server ") + r.index() + " of a job of "
                + r.trainers() + " trainer(s) and " + r.psShards() + " parameter server(s)"
                + (r.coordinator() == null ? "" : ", coordinator " + r.coordinator() + (net.startCoordinator ? " (run here)" : "")));
        err.flush();
        return Main.run(args.toArray(String[]::new), out, err);
    }
}
