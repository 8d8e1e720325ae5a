#!/usr/bin/env python3
"""PyTorch's side of the CPU training benchmark (tools/bench-cpu-training.mjs starts it and talks to it).

A worker: it reads one JSON request per line on stdin, {"case": ..., "threads": n, "runs": r}, runs
the case r times with torch.set_num_threads(n) after one untimed run, and answers one JSON line
{"ms": [...], "cpu_ms": [...]} with the wall and process CPU time of each run. With "profile": true
it runs the case once more under torch.profiler and adds "parts": milliseconds of the calling
thread's self time per part of the step (see PARTS). Cases, float32, the shapes of kdsr's side:

- stage1 / stage2: one training step of KDSR-M x4 (n_feats 64, 53 IDR-DCRB blocks, 9 encoder
  res-blocks), batch 4, LR 48x48 / HR 192x192: forward, loss (stage 1: L1; stage 2: L1 + KD against
  the frozen teacher encoder's D', tau 0.15), backward, gradient norm, Adam (betas 0.9, 0.999).
  The networks are written as the original KDSR code writes them (IDR-DDC: the batch folded into
  channels and one grouped convolution with B*C groups; MeanShift: a frozen 1x1 convolution).
- conv: conv 3x3 64->64 with bias, B16 64x64, forward and backward (every gradient).
- ddc: IDR-DDC + LeakyReLU 0.1, B8 C64 64x64, forward and backward (input and kernel gradients).
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
SLOPE = 0.1
RGB_MEAN = (0.4488, 0.4371, 0.4040)


class MeanShift(nn.Conv2d):
    def __init__(self, sign):
        super().__init__(3, 3, 1)
        self.weight.data = torch.eye(3).view(3, 3, 1, 1)
        self.bias.data = sign * torch.tensor(RGB_MEAN)
        self.requires_grad_(False)


def conv(cin, cout):
    return nn.Conv2d(cin, cout, 3, padding=1)


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(conv(c, c), nn.LeakyReLU(SLOPE), conv(c, c))

    def forward(self, x):
        return x + self.body(x)


class Encoder(nn.Module):
    def __init__(self, cin, c, n_resblocks):
        super().__init__()
        self.E = nn.Sequential(
            conv(cin, c), nn.LeakyReLU(SLOPE), *[ResBlock(c) for _ in range(n_resblocks)],
            conv(c, 2 * c), nn.LeakyReLU(SLOPE), conv(2 * c, 2 * c), nn.LeakyReLU(SLOPE), conv(2 * c, 4 * c), nn.LeakyReLU(SLOPE))
        self.mlp = nn.Sequential(nn.Linear(4 * c, 4 * c), nn.LeakyReLU(SLOPE), nn.Linear(4 * c, 4 * c), nn.LeakyReLU(SLOPE))
        self.compress = nn.Sequential(nn.Linear(4 * c, c), nn.LeakyReLU(SLOPE))

    def forward(self, x):
        idr_kd = self.mlp(self.E(x).mean(dim=(2, 3)))
        return self.compress(idr_kd), idr_kd


class IdrDdc(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.kernel = nn.Sequential(nn.Linear(c, c, bias=False), nn.LeakyReLU(SLOPE), nn.Linear(c, 9 * c, bias=False))

    def forward(self, x, d):
        b, c, h, w = x.shape
        k = self.kernel(d).view(-1, 1, 3, 3)
        return F.conv2d(x.view(1, -1, h, w), k, groups=b * c, padding=1).view(b, c, h, w)


class IdrDcrb(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.da_conv1 = IdrDdc(c)
        self.conv1 = conv(c, c)

    def forward(self, x, d):
        return x + self.conv1(F.leaky_relu(self.da_conv1(x, d), SLOPE))


class Generator(nn.Module):
    def __init__(self, c, n_blocks, scale):
        super().__init__()
        self.sub_mean, self.add_mean = MeanShift(-1), MeanShift(1)
        self.head = conv(3, c)
        self.blocks = nn.ModuleList([IdrDcrb(c) for _ in range(n_blocks)])
        self.body_tail = conv(c, c)
        up = []
        for _ in range(scale.bit_length() - 1):
            up += [conv(c, 4 * c), nn.PixelShuffle(2)]
        self.tail = nn.Sequential(*up, conv(c, 3))

    def forward(self, lr, d):
        f = self.head(self.sub_mean(lr))
        h = f
        for block in self.blocks:
            h = block(h, d)
        return self.add_mean(self.tail(self.body_tail(h) + f))


class Kdsr(nn.Module):
    def __init__(self, teacher, c=64, n_blocks=53, n_resblocks=9, scale=4):
        super().__init__()
        self.scale, self.teacher = scale, teacher
        self.G = Generator(c, n_blocks, scale)
        self.E = Encoder(3 + 3 * scale * scale if teacher else 3, c, n_resblocks)

    def encoder_input(self, lr, hr):
        return torch.cat([lr, F.pixel_unshuffle(hr, self.scale)], dim=1) if self.teacher else lr

    def forward(self, lr, hr=None):
        idr, idr_kd = self.E(self.encoder_input(lr, hr))
        return self.G(lr, idr), idr_kd


def kd_loss(student, teacher, tau=0.15):
    p = F.softmax(teacher / tau, dim=1)
    return (p * (torch.log(p) - F.log_softmax(student / tau, dim=1))).sum() / student.shape[0]


def training_step(stage, batch, teacher, student, optimizer):
    lr, hr = batch
    model = teacher if stage == 1 else student
    if stage == 1:
        sr, _ = teacher(lr, hr)
        loss = F.l1_loss(sr, hr)
    else:
        with torch.no_grad():
            _, teacher_kd = teacher.E(teacher.encoder_input(lr, hr))
        sr, student_kd = student(lr)
        loss = F.l1_loss(sr, hr) + kd_loss(student_kd, teacher_kd)
    loss.backward()
    norm = torch.sqrt(sum((p.grad * p.grad).sum() for p in model.parameters() if p.grad is not None))
    if not (torch.isfinite(loss) and torch.isfinite(norm)):
        raise RuntimeError("non-finite loss")
    with torch.profiler.record_function("Adam"):  # named for --profile; no cost otherwise
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def make_case(name):
    if name in ("stage1", "stage2"):
        stage = 1 if name == "stage1" else 2
        teacher = Kdsr(True)
        student = Kdsr(False) if stage == 2 else None
        if student is not None:
            student.G.load_state_dict(teacher.G.state_dict())
            teacher.requires_grad_(False)
        trained = teacher if stage == 1 else student
        optimizer = torch.optim.Adam([p for p in trained.parameters() if p.requires_grad], lr=2e-4, betas=(0.9, 0.999))
        batch = (torch.rand(4, 3, 48, 48), torch.rand(4, 3, 192, 192))
        return lambda: training_step(stage, batch, teacher, student, optimizer)
    if name == "conv":
        x = torch.randn(16, 64, 64, 64, requires_grad=True)
        w = (torch.randn(64, 64, 3, 3) * 0.05).requires_grad_()
        b = (torch.randn(64) * 0.1).requires_grad_()
        dy = torch.randn(16, 64, 64, 64)

        def run():
            y = F.conv2d(x, w, b, padding=1)
            torch.autograd.grad(y, (x, w, b), dy)
        return run
    if name == "ddc":
        B, C, H, W = 8, 64, 64, 64
        x = torch.randn(B, C, H, W, requires_grad=True)
        kernels = (torch.randn(B, C, 3, 3) * 0.3).requires_grad_()
        dy = torch.randn(B, C, H, W)

        def run():
            y = F.leaky_relu(F.conv2d(x.view(1, B * C, H, W), kernels.view(B * C, 1, 3, 3), groups=B * C, padding=1), SLOPE)
            torch.autograd.grad(y.view(B, C, H, W), (x, kernels), dy)
        return run
    raise ValueError(f"unknown case {name}")


def part_of(name, shapes):
    """The part of a training step an ATen op belongs to (the parts of bench-cpu-training.mjs --profile)."""
    if "conv" in name.lower():
        # IDR-DDC is a grouped convolution with one 3x3 filter per group: a [B*C, 1, 3, 3] weight.
        if any(len(s) == 4 and s[1] == 1 and s[2] == s[3] == 3 for s in shapes if s):
            return "IDR-DDC (depthwise), forward and backward"
        return "dense conv backward" if "backward" in name else "dense conv forward"
    return "other ops"


def profile(run):
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile
    with torch_profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        start = time.perf_counter()
        run()
        total = (time.perf_counter() - start) * 1000
    def in_optimizer(event):
        while event is not None:
            if event.name == "Adam":
                return True
            event = event.cpu_parent
        return False

    parts = {}
    for event in prof.events():
        part = "Adam" if in_optimizer(event) else part_of(event.name, event.input_shapes)
        parts[part] = parts.get(part, 0.0) + event.self_cpu_time_total / 1000
    parts["outside ops"] = total - sum(parts.values())
    return parts, total


def main():
    cases = {}
    for line in sys.stdin:
        request = json.loads(line)
        if request["case"] not in cases:
            cases[request["case"]] = make_case(request["case"])
        run = cases[request["case"]]
        torch.set_num_threads(request["threads"])
        run()
        times, cpu = [], []
        for _ in range(request["runs"]):
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        reply = {"ms": times, "cpu_ms": cpu, "torch": torch.__version__}
        if request.get("profile"):
            reply["parts"], reply["profiled_ms"] = profile(run)
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
