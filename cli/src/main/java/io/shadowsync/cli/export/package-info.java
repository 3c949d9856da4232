/**
 * {@code shadowsync export}: a trained model as an ONNX graph ({@link io.shadowsync.cli.export.OnnxExport}, written
 * with message classes generated from src/main/proto/onnx.proto) or as a safetensors file named like the PyTorch
 * peer's state_dict ({@link io.shadowsync.cli.export.SafetensorsExport}); {@link io.shadowsync.cli.export.LrFeatures}
 * hashes examples into an exported logistic regression's input. The contracts are in docs/export.md.
 */
package io.shadowsync.cli.export;
