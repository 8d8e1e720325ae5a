#!/usr/bin/env node
// kdsr's side of the CUDA benchmark (tools/gpu-run.sh runs it next to tools/bench_torch.py):
// conv 3x3 64->64 forward / backward (cuDNN) and IDR-DDC + LeakyReLU forward + backward (our kernels),
// B=64, C=64, 64x64, float32, TF32 allowed for the convolution (PyTorch's default for cuDNN), plus the
// device-to-device copy bandwidth measured in the same run. Median of --runs timed runs after warm-up.
// Prints one JSON object. Usage: node tools/bench-cuda.mjs [--runs 50] [--device cuda:0]
import { createRequire } from 'module';
import { dirname, join } from 'path';
import { fileURLToPath } from 'url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kdsr = require(join(root, 'packages', 'kdsr-cuda', 'dist', 'index.js'));
const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const runs = Number(opt('--runs', 50));
const device = opt('--device', 'cuda:0');
const [B, C, H, W] = [64, 64, 64, 64];

function rnd(shape, scale = 1) {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return kdsr.Tensor.fromArray(data, shape, { device });
}

// Median milliseconds of fn (each run ends with a device synchronisation; outputs disposed).
function time(fn) {
  for (let i = 0; i < 5; i++) kdsr.tidy(fn);
  kdsr.synchronize(device);
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    kdsr.tidy(fn);
    kdsr.synchronize(device);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)];
}

kdsr.setCudaMath('tf32');
const x = rnd([B, C, H, W]);
const w = rnd([C, C, 3, 3], 0.05);
const bias = rnd([C], 0.1);
const dy = rnd([B, C, H, W]);
const kernels = rnd([B, C, 3, 3], 0.3);
const grads = { need_input: true, need_weight: true, need_bias: true };
const ddc = { padding: 'zero', negative_slope: 0.1 };

const bytes = B * C * H * W * 4;
const copyMs = time(() => x.to(device)); // reads and writes `bytes`
const result = {
  device: kdsr.devices().find((d) => d.device === device)?.name ?? device,
  build: kdsr.buildInfo().cuda,
  shape: [B, C, H, W],
  runs,
  bandwidth_GBps: (2 * bytes) / (copyMs * 1e6),
  conv3x3_fwd_ms: time(() => kdsr.runOp('conv2d', [x, w, bias])),
  conv3x3_bwd_ms: time(() => kdsr.runOp('conv2d_backward', [dy, x, w], grads)),
  ddc_leaky_fwd_ms: time(() => kdsr.runOp('dyn_dwconv', [x, kernels], ddc)),
  ddc_leaky_fwd_bwd_ms: time(() => {
    const [y] = kdsr.runOp('dyn_dwconv', [x, kernels], ddc);
    kdsr.runOp('dyn_dwconv_backward', [dy, x, kernels, y], { ...ddc, need_input: true, need_kernels: true });
  }),
  // Bytes the fused kernels must move at least: forward reads x, writes y; backward reads dy, y (mask)
  // for dx and again with x for dkernels, writes dx. Kernels (B*C*9 floats) are negligible.
  ddc_fwd_bytes: 2 * bytes,
  ddc_fwd_bwd_bytes: 2 * bytes + 3 * bytes + 3 * bytes,
};
result.ddc_fwd_floor_ms = result.ddc_fwd_bytes / (result.bandwidth_GBps * 1e6);
result.ddc_fwd_bwd_floor_ms = result.ddc_fwd_bwd_bytes / (result.bandwidth_GBps * 1e6);
console.log(JSON.stringify(result, null, 2));
