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
  The networks are tools/kdsr_torch_networks.py's, written as the original KDSR code writes them.
- default: one stage-2 step of the bundled default model's network (n_feats 32, 8 blocks, 3 encoder
  res-blocks) at its training batch, 16 LR 48x48 / HR 192x192.
- conv: conv 3x3 64->64 with bias, B16 64x64, forward and backward (every gradient).
- ddc: IDR-DDC + LeakyReLU 0.1, B8 C64 64x64, forward and backward (input and kernel gradients).
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

from kdsr_torch_networks import SLOPE, KdsrStudent, KdsrTeacher

torch.manual_seed(0)
KDSR_M = dict(c=64, n_blocks=53, n_resblocks=9, scale=4)
DEFAULT_MODEL = dict(c=32, n_blocks=8, n_resblocks=3, scale=4)


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
    if name in ("stage1", "stage2", "default"):
        stage = 1 if name == "stage1" else 2
        sizes, batch_size = (DEFAULT_MODEL, 16) if name == "default" else (KDSR_M, 4)
        teacher = KdsrTeacher(**sizes)
        student = KdsrStudent(**sizes) if stage == 2 else None
        if student is not None:
            student.G.load_state_dict(teacher.G.state_dict())
            teacher.requires_grad_(False)
        trained = teacher if stage == 1 else student
        optimizer = torch.optim.Adam([p for p in trained.parameters() if p.requires_grad], lr=2e-4, betas=(0.9, 0.999))
        batch = (torch.rand(batch_size, 3, 48, 48), torch.rand(batch_size, 3, 192, 192))
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
