/**
 * Numeric kernels on plain {@code float[]} with offsets: the code that loops over parameters and activations element by
 * element. {@link Blas} multiplies matrices (native BLAS through netlib, netlib's Java BLAS, or the naive reference),
 * {@link Vec} holds the level-1 kernels (axpy, dot, scale, row and column sums, finiteness checks), {@link Activations}
 * the element-wise activations, {@link EmbeddingBags} the CSR gather and scatter-add of embedding rows,
 * {@link PairwiseDots} DLRM's feature interaction in its blocked lane-major layout, and {@link SoftmaxCrossEntropy} the
 * fused multiclass loss. Every kernel is a static method that allocates nothing and writes only its output range, and
 * every fast path has a scalar or naive twin ({@code *Scalar}, {@link Blas#gemmNaive},
 * {@link PairwiseDots#forwardScalar}) that the tests hold it to.
 *
 * <p>The Vector API paths ({@code VectorKernels}, {@code PairwiseDotsVector}) are loaded only when
 * {@code jdk.incubator.vector} is in the boot layer, and {@link Vec#simdDescription()} says which path is live. Apart
 * from {@link Vec#dot} and the pairwise dots (which use fused multiply-adds) they give the same bits as their scalar
 * twins, so a model trains the same with or without the module. Sharing: the kernels keep no state; Hogwild callers run
 * them on arrays that other threads are writing and get racy element values on purpose, never an exception. This
 * package depends on no other package of shadowsync. Start with {@link Vec}, then {@link Blas}.
 */
package io.shadowsync.kernels;
