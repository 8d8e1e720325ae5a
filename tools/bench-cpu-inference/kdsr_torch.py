#!/usr/bin/env python3
"""PyTorch's side of tools/bench-cpu-inference.mjs: KDSR_S (the student) as the reference code
defines it (tools/kdsr_torch_networks.py), loaded from a kdsr .safetensors model as it is.

  kdsr_torch.py export --weights model.safetensors --onnx model.onnx
      exports the model (LR (1, 3, H, W) -> SR (1, 3, sH, sW), H and W dynamic) for onnxruntime.
  kdsr_torch.py run --weights model.safetensors --height 180 --width 320 --runs 2 --threads 2
      times inference (torch.inference_mode) after one warm-up run and prints one JSON line:
      times (ms), peak RSS of the process (MiB) and a sample of the output for comparisons.

The input image is the benchmark's synthetic one (bench_input in tools/bench-cpu-inference.mjs).
"""
import argparse
import json
import os
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from kdsr_torch_networks import KdsrStudent  # noqa: E402  (tools/, beside this folder)


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        dtype = {"F32": np.float32, "F16": np.float16, "BF16": None}[info["dtype"]]
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[base + begin : base + end], dtype=dtype).astype(np.float32)
        tensors[name] = torch.from_numpy(array.reshape(info["shape"]).copy())
    return tensors, metadata


class StudentSr(nn.Module):
    """The student with the SR image as its only output (what the benchmark times and exports)."""

    def __init__(self, student):
        super().__init__()
        self.student = student

    def forward(self, lr):
        return self.student(lr)[0]


def load_model(path):
    tensors, metadata = load_safetensors(path)
    config = json.loads(metadata["config"])
    student = KdsrStudent(config["nFeats"], config["nBlocks"], config["nResblocks"], config["scale"])
    student.load_state_dict(tensors, strict=True)
    return StudentSr(student).eval()


def bench_input(height, width):
    """The same synthetic LR image as benchInput() in tools/bench-cpu-inference.mjs."""
    c, y, x = np.meshgrid(np.arange(3), np.arange(height), np.arange(width), indexing="ij")
    img = 0.5 + 0.25 * np.sin(0.05 * x + 0.9 * c) * np.cos(0.07 * y - 0.4 * c) + 0.2 * np.sin(0.61 * x * y + c)
    return torch.from_numpy(img.astype(np.float32)).unsqueeze(0)


def output_sample(sr):
    flat = sr.reshape(-1)
    return flat[:: max(1, flat.numel() // 4096)][:4096].tolist()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["export", "run"])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--onnx")
    parser.add_argument("--height", type=int, default=180)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.weights)
    if args.command == "export":
        lr = bench_input(24, 32)
        torch.onnx.export(model, (lr,), args.onnx, input_names=["lr"], output_names=["sr"],
                          dynamic_axes={"lr": {2: "height", 3: "width"}, "sr": {2: "sr_height", 3: "sr_width"}},
                          opset_version=17, dynamo=False)
        return
    lr = bench_input(args.height, args.width)
    times = []
    with torch.inference_mode():
        for run in range(args.runs + 1):
            start = time.perf_counter()
            sr = model(lr)
            elapsed = (time.perf_counter() - start) * 1000
            if run > 0:
                times.append(elapsed)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"times": times, "peakRssMiB": peak_mib, "sample": output_sample(sr)}))


if __name__ == "__main__":
    main()
