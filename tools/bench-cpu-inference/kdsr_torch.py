#!/usr/bin/env python3
"""PyTorch's side of tools/bench-cpu-inference.mjs: KDSR_S (the student) as the reference code
defines it (../shared/fixtures/README.md, "The networks"), with kdsr's checkpoint keys (G.*, E_st.*),
so that a kdsr .safetensors model loads as it is.

  kdsr_torch.py export --weights model.safetensors --onnx model.onnx
      exports the model (LR (1, 3, H, W) -> SR (1, 3, sH, sW), H and W dynamic) for onnxruntime.
  kdsr_torch.py run --weights model.safetensors --height 180 --width 320 --runs 2 --threads 2
      times inference (torch.inference_mode) after one warm-up run and prints one JSON line:
      times (ms), peak RSS of the process (MiB) and a sample of the output for comparisons.

The input image is the benchmark's synthetic one (bench_input in tools/bench-cpu-inference.mjs).
"""
import argparse
import json
import math
import resource
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

RGB_MEAN = (0.4488, 0.4371, 0.4040)


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


def conv(cin, cout):
    return nn.Conv2d(cin, cout, 3, padding=1)


class MeanShift(nn.Conv2d):
    def __init__(self, sign):
        super().__init__(3, 3, 1)
        self.weight.data = torch.eye(3).view(3, 3, 1, 1)
        self.bias.data = sign * torch.tensor(RGB_MEAN)
        self.requires_grad_(False)


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(conv(c, c), nn.LeakyReLU(0.1), conv(c, c))

    def forward(self, x):
        return x + self.body(x)


class Encoder(nn.Module):
    def __init__(self, cin, c, n_resblocks):
        super().__init__()
        self.E = nn.Sequential(
            conv(cin, c), nn.LeakyReLU(0.1), *[ResBlock(c) for _ in range(n_resblocks)],
            conv(c, 2 * c), nn.LeakyReLU(0.1), conv(2 * c, 2 * c), nn.LeakyReLU(0.1), conv(2 * c, 4 * c), nn.LeakyReLU(0.1))
        self.mlp = nn.Sequential(nn.Linear(4 * c, 4 * c), nn.LeakyReLU(0.1), nn.Linear(4 * c, 4 * c), nn.LeakyReLU(0.1))
        self.compress = nn.Sequential(nn.Linear(4 * c, c), nn.LeakyReLU(0.1))

    def forward(self, x):
        idr_kd = self.mlp(self.E(x).mean(dim=(2, 3)))
        return self.compress(idr_kd), idr_kd


class IdrDdc(nn.Module):
    """The reference code's dynamic depthwise convolution: the batch folded into the channels."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.kernel = nn.Sequential(nn.Linear(c, c, bias=False), nn.LeakyReLU(0.1), nn.Linear(c, 9 * c, bias=False))

    def forward(self, h, d):
        b, c, height, width = h.shape
        k = self.kernel(d).view(-1, 1, 3, 3)
        return F.conv2d(h.view(1, -1, height, width), k, groups=b * c, padding=1).view(b, -1, height, width)


class IdrDcrb(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.da_conv1 = IdrDdc(c)
        self.conv1 = conv(c, c)

    def forward(self, h, d):
        return h + self.conv1(F.leaky_relu(self.da_conv1(h, d), 0.1))


class IdrGroup(nn.Module):
    def __init__(self, c, n_blocks):
        super().__init__()
        self.body = nn.ModuleList([IdrDcrb(c) for _ in range(n_blocks)])

    def forward(self, h, d):
        for block in self.body:
            h = block(h, d)
        return h


class Upsampler(nn.Sequential):
    def __init__(self, scale, c):
        layers = []
        if scale == 3:
            layers += [conv(c, 9 * c), nn.PixelShuffle(3)]
        else:
            for _ in range(int(math.log2(scale))):
                layers += [conv(c, 4 * c), nn.PixelShuffle(2)]
        super().__init__(*layers)


class Generator(nn.Module):
    def __init__(self, c, n_blocks, scale):
        super().__init__()
        self.sub_mean = MeanShift(-1)
        self.head = nn.Sequential(conv(3, c))
        self.body = nn.ModuleList([IdrGroup(c, n_blocks), conv(c, c)])
        self.tail = nn.Sequential(Upsampler(scale, c), conv(c, 3))
        self.add_mean = MeanShift(1)

    def forward(self, lr, d):
        f = self.head(self.sub_mean(lr))
        h = self.body[1](self.body[0](f, d)) + f
        return self.add_mean(self.tail(h))


class KdsrStudent(nn.Module):
    def __init__(self, config):
        super().__init__()
        c = config["nFeats"]
        self.G = Generator(c, config["nBlocks"], config["scale"])
        self.E_st = Encoder(3, c, config["nResblocks"])

    def forward(self, lr):
        d, _ = self.E_st(lr)
        return self.G(lr, d)


def load_model(path):
    tensors, metadata = load_safetensors(path)
    model = KdsrStudent(json.loads(metadata["config"]))
    model.load_state_dict(tensors, strict=True)
    return model.eval()


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
