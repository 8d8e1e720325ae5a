#!/usr/bin/env python3
"""PyTorch's side of the CUDA benchmark (tools/gpu-run.sh): the same shapes as tools/bench-cuda.mjs.

conv 3x3 64->64 forward / backward, and IDR-DDC + LeakyReLU as the original KDSR code runs it: the
batch folded into channels and one grouped convolution with B*C groups
(F.conv2d(x.view(1, B*C, H, W), kernels.view(B*C, 1, 3, 3), padding=1, groups=B*C)).
Median of --runs timed runs (CUDA events) after warm-up; cudnn.benchmark on, TF32 allowed for
convolutions (PyTorch's default). Prints one JSON object.
"""
import argparse
import json
import statistics

import torch
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=50)
args = parser.parse_args()

torch.backends.cudnn.benchmark = True
torch.backends.cudnn.allow_tf32 = True
dev = torch.device("cuda:0")
B, C, H, W = 64, 64, 64, 64
g = torch.Generator(device=dev).manual_seed(0)
x = torch.randn(B, C, H, W, device=dev, generator=g, requires_grad=True)
w = (torch.randn(C, C, 3, 3, device=dev, generator=g) * 0.05).requires_grad_()
b = (torch.randn(C, device=dev, generator=g) * 0.1).requires_grad_()
dy = torch.randn(B, C, H, W, device=dev, generator=g)
kernels = (torch.randn(B, C, 3, 3, device=dev, generator=g) * 0.3).requires_grad_()


def median_ms(fn):
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(args.runs):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def conv_fwd():
    with torch.no_grad():
        F.conv2d(x, w, b, padding=1)


y_conv = F.conv2d(x, w, b, padding=1)


def conv_bwd():
    torch.autograd.grad(y_conv, (x, w, b), dy, retain_graph=True)


def ddc(inp, k):
    out = F.conv2d(inp.reshape(1, B * C, H, W), k.reshape(B * C, 1, 3, 3), padding=1, groups=B * C)
    return F.leaky_relu(out.view(B, C, H, W), 0.1)


def ddc_fwd():
    with torch.no_grad():
        ddc(x, kernels)


def ddc_fwd_bwd():
    y = ddc(x, kernels)
    torch.autograd.grad(y, (x, kernels), dy)


nbytes = B * C * H * W * 4
copy_ms = median_ms(lambda: x.detach().clone())
print(json.dumps({
    "device": torch.cuda.get_device_name(0),
    "torch": torch.__version__,
    "cudnn": torch.backends.cudnn.version(),
    "runs": args.runs,
    "bandwidth_GBps": 2 * nbytes / (copy_ms * 1e6),
    "conv3x3_fwd_ms": median_ms(conv_fwd),
    "conv3x3_bwd_ms": median_ms(conv_bwd),
    "ddc_leaky_fwd_ms": median_ms(ddc_fwd),
    "ddc_leaky_fwd_bwd_ms": median_ms(ddc_fwd_bwd),
}, indent=2))
