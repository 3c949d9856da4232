/**
 * What a worker does with the gradient of a batch: a {@link StepRule}. {@link HogwildStep} applies it to the shared
 * replica without locks; {@link AsyncPsStep} pushes it to the dense parameter server and pulls fresh parameters;
 * {@link SlowStep} stalls first (an emulated straggler) and hands the batch on. The rules that take part in the
 * job's synchronization — foreground rounds and synchronous SGD, which record sync rounds and fail the whole job
 * when a round fails — live in {@code io.shadowsync.engine} with the failure signal and the counters they write.
 *
 * <p>Threading: {@link StepRule#apply} runs on the worker's thread; a rule shares nothing of its own unless it says so.
 */
package io.shadowsync.engine.step;
