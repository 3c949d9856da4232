#!/usr/bin/env python3
"""Loads an exported Fashion-MNIST MLP (safetensors) into the PyTorch peer's MLP class and compares its
probabilities with `shadowsync predict`'s on the same IDX images. Needs Debian's python3-torch (/usr/bin/python3).

usage: safetensors-peer-check.py MODEL.safetensors PREDICTIONS.txt IMAGES-idx3-ubyte.gz
"""
import gzip, json, struct, sys

import numpy as np
import torch
import torch.nn as nn


def load_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = bytearray(raw[8 + n:])
    return {k: torch.frombuffer(data, dtype=torch.float32, offset=v["data_offsets"][0],
                                count=(v["data_offsets"][1] - v["data_offsets"][0]) // 4).reshape(v["shape"])
            for k, v in header.items() if k != "__metadata__"}


class MLP(nn.Module):  # the peer's class, as in torch_bench.py
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.net(x)


def main(model_path, predictions, images):
    m = MLP()
    m.load_state_dict(load_safetensors(model_path))
    m.eval()
    raw = gzip.open(images).read()
    x = torch.tensor(np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255.0)
    with torch.no_grad():
        p = torch.softmax(m(x), dim=1).numpy()
    ours = np.array([[float(v) for v in line.split("\t")[1:]] for line in open(predictions)])
    if ours.shape != p.shape:
        sys.exit(f"predictions {ours.shape} vs the peer's {p.shape}: not the same rows")
    diff = np.abs(p - ours).max()
    print(f"rows {len(ours)}, max |peer - shadowsync| {diff:.3g}, same class {(p.argmax(1) == ours.argmax(1)).mean():.4f}")
    sys.exit(0 if diff < 1e-5 else 1)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
