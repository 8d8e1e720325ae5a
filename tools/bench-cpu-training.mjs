#!/usr/bin/env node
// CPU training benchmark, kdsr against PyTorch in one run, interleaved: a PyTorch worker
// (tools/bench_cpu_training.py, started with the Python of --python) answers each request right
// after kdsr ran the same case, so both see the same load. Cases (float32):
//   stage2, stage1  one Trainer.step() of KDSR-M x4 at batch 4, LR 48x48 (the batch is ready: no data synthesis)
//   default         one stage-2 step of the bundled default model's network (n_feats 32, 8 blocks,
//                   3 encoder res-blocks) at its training batch: 16, LR 48x48
//   conv            conv 3x3 64->64 + bias forward and backward (every gradient), B16 64x64
//   ddc             IDR-DDC + LeakyReLU forward and backward (input and kernel gradients), B8 C64 64x64
// Every round runs every case at every thread count, kdsr first in even rounds and PyTorch first in
// odd ones; the table gives the median over all rounds' runs and kdsr / PyTorch, of wall time and
// of the process's CPU time (less disturbed by other jobs on a shared machine; with several
// threads it includes OpenMP's spin-waiting, on both sides).
//
// Usage: node tools/bench-cpu-training.mjs [--rounds 3] [--step-runs 2] [--op-runs 10] [--threads 1,2]
//        [--cases stage2,stage1,conv,ddc (default), default] [--isa avx2] [--omp-wait-policy passive|active]
//        [--profile] [--python /work/bench-venv/bin/python] [--json out.json]
// --profile adds, per training case and thread count, where one step spends its time on each side:
// dense convolutions forward and backward, IDR-DDC, Adam, the other kernels, and the time outside
// kernels (JS / Python, autograd, allocation). kdsr's side times each native kernel call; PyTorch's
// is torch.profiler's self time of the calling thread per ATen op.
// --isa avx2 runs both sides as on an AVX2 machine: oneDNN (ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA),
// kdsr's own kernels (KDSR_CPU_ISA), PyTorch's (ATEN_CPU_CAPABILITY) and MKL (MKL_ENABLE_INSTRUCTIONS).
import { spawn } from 'child_process';
import { writeFileSync } from 'fs';
import { createRequire } from 'module';
import * as os from 'os';
import { dirname, join } from 'path';
import { createInterface } from 'readline';
import { fileURLToPath } from 'url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const rounds = Number(opt('--rounds', 3));
const stepRuns = Number(opt('--step-runs', 2));
const opRuns = Number(opt('--op-runs', 10));
const threads = opt('--threads', '1,2').split(',').map(Number);
const cases = opt('--cases', 'stage2,stage1,conv,ddc').split(',');
const isa = opt('--isa', 'native');
const ompWait = opt('--omp-wait-policy', null);
const profiling = args.includes('--profile');
const python = opt('--python', '/work/bench-venv/bin/python');
const jsonOut = opt('--json', null);

if (isa === 'avx2') {
  // Set before the addon and oneDNN load: both read them once.
  Object.assign(process.env, {
    ONEDNN_MAX_CPU_ISA: 'AVX2',
    DNNL_MAX_CPU_ISA: 'AVX2',
    KDSR_CPU_ISA: 'avx2',
    ATEN_CPU_CAPABILITY: 'avx2',
    MKL_ENABLE_INSTRUCTIONS: 'AVX2',
  });
} else if (isa !== 'native') {
  throw new Error(`--isa must be native or avx2, got ${isa}`);
}
// GNU OpenMP (kdsr's and PyTorch's) spin-waits at barriers by default; on a machine whose cores
// other jobs also use, 'passive' (sleep at once) can be much faster with several threads.
if (ompWait) process.env.OMP_WAIT_POLICY = ompWait;

const require = createRequire(import.meta.url);
const cuda = require(join(root, 'packages', 'kdsr-cuda', 'dist', 'index.js'));
const core = require(join(root, 'packages', 'kdsr-core', 'dist', 'index.js'));

const LABELS = {
  stage2: 'stage-2 training step, KDSR-M x4, batch 4, LR 48x48',
  stage1: 'stage-1 training step, same',
  default: 'stage-2 training step, default model (C32, 8 blocks), batch 16',
  conv: 'conv 3x3 64->64 fwd+bwd, B16 64x64',
  ddc: 'IDR-DDC + LeakyReLU fwd+bwd, B8 C64 64x64',
};

/** Uniform values in [offset - scale, offset + scale) from a fixed seed. */
function uniform(shape, seed, scale, offset) {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = offset + ((s / 4294967296) * 2 - 1) * scale;
  }
  return cuda.Tensor.fromArray(data, shape);
}

/** A data source that hands out copies of one fixed batch (the trainer disposes what it gets). */
function fixedBatches(lr, hr) {
  return {
    nextBatch: () => ({ lr: cuda.scale(lr, 1), hr: cuda.scale(hr, 1) }),
    saveState: () => null,
    restoreState: () => {},
  };
}

function makeKdsrCase(name) {
  if (name === 'stage1' || name === 'stage2' || name === 'default') {
    const config = name === 'default' ? core.kdsrConfig('custom', { nFeats: 32, nBlocks: 8, nResblocks: 3, scale: 4 }) : core.kdsrConfig('M', { scale: 4 });
    const batch = name === 'default' ? 16 : 4;
    const teacher = new core.KdsrTeacher(config, { seed: 1 });
    const student = name === 'stage1' ? undefined : core.studentFromTeacher(teacher, { seed: 2 });
    const lr = uniform([batch, 3, 48, 48], 3, 0.5, 0.5);
    const hr = uniform([batch, 3, 192, 192], 4, 0.5, 0.5);
    const trainer = new core.Trainer({
      stage: name === 'stage1' ? 1 : 2,
      teacher,
      student,
      data: fixedBatches(lr, hr),
      optimizer: { lr: 2e-4, ...core.ADAM_BETAS_CLASSIC },
    });
    return async () => {
      await trainer.step();
    };
  }
  if (name === 'conv') {
    const x = uniform([16, 64, 64, 64], 5, 1, 0);
    const w = uniform([64, 64, 3, 3], 6, 0.05, 0);
    const b = uniform([64], 7, 0.1, 0);
    const dy = uniform([16, 64, 64, 64], 8, 1, 0);
    return () =>
      cuda.tidy(() => {
        cuda.conv2d(x, w, b);
        cuda.conv2dBackward(dy, x, w);
      });
  }
  if (name === 'ddc') {
    const x = uniform([8, 64, 64, 64], 9, 1, 0);
    const kernels = uniform([8, 64, 3, 3], 10, 0.3, 0);
    const dy = uniform([8, 64, 64, 64], 11, 1, 0);
    const options = { padding: 'zero', negativeSlope: 0.1 };
    return () =>
      cuda.tidy(() => {
        const y = cuda.dynDwconv(x, kernels, options);
        cuda.dynDwconvBackward(dy, x, kernels, y, options);
      });
  }
  throw new Error(`unknown case ${name}`);
}

const kdsrCases = new Map();
async function runKdsr(name, nThreads, runs) {
  if (!kdsrCases.has(name)) kdsrCases.set(name, makeKdsrCase(name));
  const run = kdsrCases.get(name);
  cuda.setNumThreads(nThreads);
  await run();
  const ms = [];
  const cpuMs = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await run();
    const c = process.cpuUsage(c0);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    cpuMs.push((c.user + c.system) / 1e3);
  }
  return { ms, cpuMs };
}

const worker = spawn(python, [join(root, 'tools', 'bench_cpu_training.py')], { stdio: ['pipe', 'pipe', 'inherit'], env: process.env });
const replies = createInterface({ input: worker.stdout })[Symbol.asyncIterator]();
let torchInfo = null;
async function runTorch(name, nThreads, runs, profile = false) {
  worker.stdin.write(JSON.stringify({ case: name, threads: nThreads, runs, profile }) + '\n');
  const reply = await replies.next();
  if (reply.done) throw new Error(`the PyTorch worker (${python}) exited; see its error above`);
  const parsed = JSON.parse(reply.value);
  torchInfo = parsed.torch;
  return { ms: parsed.ms, cpuMs: parsed.cpu_ms, parts: parsed.parts, profiledMs: parsed.profiled_ms };
}

/** The part of a training step a kdsr kernel belongs to (the same parts as bench_cpu_training.py's). */
function partOf(op) {
  if (op === 'conv2d') return 'dense conv forward';
  if (op === 'conv2d_backward') return 'dense conv backward';
  if (op.startsWith('dyn_dwconv')) return 'IDR-DDC (depthwise), forward and backward';
  if (op === 'adam_update') return 'Adam';
  return 'other ops';
}

/** One step of a case with every native kernel call timed: milliseconds per part, and the step's. */
async function profileKdsr(name, nThreads) {
  const run = kdsrCases.get(name);
  cuda.setNumThreads(nThreads);
  await run();
  // Every op wrapper reaches its kernel through runOp / runOp1 of dist/ops/run.js (runOp1 through
  // its own module's runOp, so the two never time the same call twice).
  const kernels = require(join(root, 'packages', 'kdsr-cuda', 'dist', 'ops', 'run.js'));
  const originals = { runOp: kernels.runOp, runOp1: kernels.runOp1 };
  const parts = {};
  for (const [name, original] of Object.entries(originals))
    kernels[name] = (op, inputs, attrs) => {
      const t0 = performance.now();
      try {
        return original(op, inputs, attrs);
      } finally {
        parts[partOf(op)] = (parts[partOf(op)] ?? 0) + performance.now() - t0;
      }
    };
  const t0 = performance.now();
  try {
    await run();
  } finally {
    Object.assign(kernels, originals);
  }
  const total = performance.now() - t0;
  parts['outside ops'] = total - Object.values(parts).reduce((a, b) => a + b, 0);
  return { parts, total };
}

/** Whether a case is a whole training step (timed per step, profiled, allocator-counted). */
const isStep = (name) => name.startsWith('stage') || name === 'default';

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const samples = new Map(); // `${case}/${threads}` -> wall and CPU milliseconds of each side
const loads = [os.loadavg()[0]];
for (let round = 0; round < rounds; round++) {
  for (const name of cases)
    for (const t of threads) {
      const runs = isStep(name) ? stepRuns : opRuns;
      const key = `${name}/${t}`;
      if (!samples.has(key)) samples.set(key, { kdsr: [], torch: [], kdsrCpu: [], torchCpu: [] });
      const cell = samples.get(key);
      const record = (side, { ms, cpuMs }) => {
        cell[side].push(...ms);
        cell[`${side}Cpu`].push(...cpuMs);
      };
      const sides = [async () => record('kdsr', await runKdsr(name, t, runs)), async () => record('torch', await runTorch(name, t, runs))];
      if (round % 2) sides.reverse();
      for (const side of sides) await side();
      process.stderr.write(`round ${round + 1}/${rounds} ${key}: kdsr ${median(cell.kdsr).toFixed(1)} ms, PyTorch ${median(cell.torch).toFixed(1)} ms\n`);
    }
  loads.push(os.loadavg()[0]);
}
const profiles = [];
if (profiling)
  for (const name of cases.filter(isStep))
    for (const t of threads) {
      const kdsr = await profileKdsr(name, t);
      const torch = await runTorch(name, t, 0, true);
      profiles.push({ name, threads: t, kdsr, torch: { parts: torch.parts, total: torch.profiledMs } });
    }
worker.stdin.end();

// The caching allocator in the steady state: one more step of each training case, counting the
// buffers it handed out and those that needed new memory from the system.
const allocatorLines = [];
for (const name of cases.filter(isStep)) {
  const before = cuda.memory('cpu');
  await kdsrCases.get(name)();
  const after = cuda.memory('cpu');
  const allocations = after.allocations - before.allocations;
  const misses = after.segmentAllocations - before.segmentAllocations;
  allocatorLines.push(`${name}: ${allocations} buffers from the caching allocator in one step, ${misses} new segments (hit rate ${(100 * (1 - misses / allocations)).toFixed(2)} %)`);
}

const info = cuda.buildInfo();
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const lines = [
  `kdsr ${info.version} (oneDNN ${info.onednn ?? 'none'}), PyTorch ${torchInfo}; ISA ${isa}; OMP_WAIT_POLICY ${process.env.OMP_WAIT_POLICY ?? 'unset'}; ${os.cpus()[0].model}, ${os.cpus().length} CPUs; ` +
    `load average ${Math.min(...loads).toFixed(2)}-${Math.max(...loads).toFixed(2)}; ${rounds} rounds, median of ${stepRuns} (steps) / ${opRuns} (ops) runs per round`,
  '',
  '| work | threads | kdsr | PyTorch | kdsr / PyTorch | kdsr CPU time | PyTorch CPU time | ratio |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
];
const rows = [];
for (const name of cases)
  for (const t of threads) {
    const cell = samples.get(`${name}/${t}`);
    const row = {
      case: name,
      threads: t,
      kdsr_ms: median(cell.kdsr),
      torch_ms: median(cell.torch),
      kdsr_cpu_ms: median(cell.kdsrCpu),
      torch_cpu_ms: median(cell.torchCpu),
      kdsr_runs: cell.kdsr,
      torch_runs: cell.torch,
    };
    rows.push(row);
    lines.push(
      `| ${LABELS[name]} | ${t} | ${fmt(row.kdsr_ms)} | ${fmt(row.torch_ms)} | ${(row.kdsr_ms / row.torch_ms).toFixed(2)} | ` +
        `${fmt(row.kdsr_cpu_ms)} | ${fmt(row.torch_cpu_ms)} | ${(row.kdsr_cpu_ms / row.torch_cpu_ms).toFixed(2)} |`,
    );
  }
const PARTS = ['dense conv forward', 'dense conv backward', 'IDR-DDC (depthwise), forward and backward', 'Adam', 'other ops', 'outside ops'];
const profileLines = profiles.flatMap(({ name, threads: t, kdsr, torch }) => [
  '',
  `${LABELS[name]}, ${t} thread(s), one profiled step (milliseconds):`,
  '',
  '| part | kdsr | PyTorch | kdsr - PyTorch |',
  '| --- | --- | --- | --- |',
  ...[...PARTS, 'step'].map((part) => {
    const [a, b] = part === 'step' ? [kdsr.total, torch.total] : [kdsr.parts[part] ?? 0, torch.parts[part] ?? 0];
    return `| ${part} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(a - b).toFixed(0)} |`;
  }),
]);
console.log([...lines, '', ...allocatorLines, ...profileLines].join('\n'));
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ isa, ompWaitPolicy: process.env.OMP_WAIT_POLICY ?? null, loads, torch: torchInfo, build: info, rows, allocator: allocatorLines, profiles }, null, 2) + '\n');
