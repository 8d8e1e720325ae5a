#!/usr/bin/env node
// Side-by-side CPU inference benchmark (issue 13): kdsr, PyTorch and onnxruntime-node upscale the same
// image with the same KDSR_S-M x4 weights (random, seed 1), untiled, interleaved in one run: every
// measurement is a fresh process (so its peak RSS is its own), and each round runs the three in a
// rotated order. Prints the machine, the load average, and per size the median time (min-max over
// rounds), the median peak RSS and the ratios; the outputs are cross-checked against PyTorch's.
//
//   node tools/bench-cpu-inference.mjs [--sizes 180x320,360x640] [--rounds 3] [--runs 1] [--threads 2]
//        [--only kdsr,torch,ort] [--isa native|avx2] [--python /work/bench-venv/bin/python] [--work DIR] [--json FILE]
//
// --isa avx2 runs kdsr and PyTorch as on an AVX2 machine (oneDNN, kdsr's own kernels, PyTorch's and
// MKL's dispatch capped at AVX2); onnxruntime-node has no such switch, so leave it out (--only kdsr,torch).
//
// Needs a build (npm run build), a Python with torch, onnx and onnxscript (--python), and the npm
// registry once: onnxruntime-node is installed into the work folder (a benchmark-only dependency, not
// one of the packages'). The helpers are in tools/bench-cpu-inference/.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import { createRequire } from 'module';
import * as os from 'os';
import * as path from 'path';
import { fileURLToPath } from 'url';
import { parseArgs } from './bench-cpu-inference/bench-input.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const helpers = path.join(here, 'bench-cpu-inference');
const require = createRequire(import.meta.url);
const ORT_VERSION = '1.31.1';

const args = { sizes: '180x320,360x640', rounds: '3', runs: '1', threads: '2', only: 'kdsr,torch,ort', python: '/work/bench-venv/bin/python', work: path.join(os.tmpdir(), 'kdsr-bench-cpu-inference'), ...parseArgs(process.argv.slice(2)) };
const isa = args.isa ?? 'native';
if (isa === 'avx2') {
  if (args.only.split(',').includes('ort')) throw new Error('--isa avx2: onnxruntime-node cannot be capped at AVX2; add --only kdsr,torch');
  // Read once by each child process at start.
  Object.assign(process.env, { ONEDNN_MAX_CPU_ISA: 'AVX2', DNNL_MAX_CPU_ISA: 'AVX2', KDSR_CPU_ISA: 'avx2', ATEN_CPU_CAPABILITY: 'avx2', MKL_ENABLE_INSTRUCTIONS: 'AVX2' });
} else if (isa !== 'native') {
  throw new Error(`--isa must be native or avx2, got ${isa}`);
}
const sizes = args.sizes.split(',').map((s) => s.split('x').map(Number));
const frameworks = args.only.split(',');
fs.mkdirSync(args.work, { recursive: true });
const weights = path.join(args.work, 'kdsr_s_m_x4.safetensors');
const onnx = path.join(args.work, 'kdsr_s_m_x4.onnx');
const ortDir = path.join(args.work, 'ort');

function log(line) {
  process.stderr.write(`${line}\n`);
}

// The model, its ONNX export and onnxruntime-node, made once per work folder.
if (!fs.existsSync(weights)) {
  const core = require('../packages/kdsr-core');
  const config = core.kdsrConfig('M', { scale: 4 });
  const student = new core.KdsrStudent(config, { seed: 1 });
  core.saveWeights(weights, student.stateDict(), { role: 'student', preset: 'M', config, stage: 2, step: 0 });
  log(`wrote ${weights}`);
}
if (frameworks.includes('ort') && !fs.existsSync(onnx)) {
  execFileSync(args.python, [path.join(helpers, 'kdsr_torch.py'), 'export', '--weights', weights, '--onnx', onnx], { stdio: ['ignore', 'inherit', 'inherit'] });
  log(`wrote ${onnx}`);
}
if (frameworks.includes('ort') && !fs.existsSync(path.join(ortDir, 'node_modules', 'onnxruntime-node'))) {
  fs.mkdirSync(ortDir, { recursive: true });
  fs.writeFileSync(path.join(ortDir, 'package.json'), '{ "private": true }\n');
  // --ignore-scripts: the CPU binaries are in the package; its install script only fetches CUDA ones.
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', `onnxruntime-node@${ORT_VERSION}`], { cwd: ortDir, stdio: ['ignore', 'inherit', 'inherit'] });
}

function command(framework, [height, width]) {
  const common = ['--height', String(height), '--width', String(width), '--runs', args.runs, '--threads', args.threads];
  if (framework === 'kdsr') return [process.execPath, [path.join(helpers, 'run-kdsr.mjs'), '--weights', weights, ...common]];
  if (framework === 'torch') return [args.python, [path.join(helpers, 'kdsr_torch.py'), 'run', '--weights', weights, ...common]];
  return [process.execPath, [path.join(helpers, 'run-ort.mjs'), '--onnx', onnx, '--ort', ortDir, ...common]];
}

function measure(framework, size) {
  const [file, argv] = command(framework, size);
  const env = { ...process.env, OMP_NUM_THREADS: args.threads };
  const run = spawnSync(file, argv, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`${framework} ${size.join('x')} failed (exit ${run.status}):\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop());
}

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const loadBefore = os.loadavg();
const results = {}; // size -> framework -> [measurement]
const loads = [];
for (let round = 0; round < Number(args.rounds); round++)
  for (const size of sizes) {
    const key = size.join('x');
    results[key] ??= {};
    const order = frameworks.map((_, i) => frameworks[(i + round) % frameworks.length]);
    for (const framework of order) {
      const m = measure(framework, size);
      (results[key][framework] ??= []).push(m);
      loads.push(os.loadavg()[0]);
      log(`round ${round + 1} ${key} ${framework}: ${m.times.map((t) => (t / 1000).toFixed(2)).join(', ')} s, peak RSS ${m.peakRssMiB.toFixed(0)} MiB (load ${os.loadavg()[0].toFixed(1)})`);
    }
  }

const names = { kdsr: 'kdsr', torch: 'PyTorch', ort: 'onnxruntime-node' };
const cpu = os.cpus();
console.log(`\nKDSR_S-M x4 inference, untiled, ${args.threads} threads, ISA ${isa}; ${cpu[0].model}, ${cpu.length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}`);
console.log(`load average (1 min) ${loadBefore[0].toFixed(1)} before, ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} during; ${args.rounds} rounds x ${args.runs} timed run(s) after a warm-up; median (min-max) seconds, median peak RSS\n`);
console.log(`| LR size | ${frameworks.map((f) => names[f]).join(' | ')} | ${frameworks.filter((f) => f !== 'kdsr').map((f) => `kdsr / ${names[f]} time, memory`).join(' | ')} |`);
console.log(`| --- |${frameworks.map(() => ' --- |').join('')}${frameworks.filter((f) => f !== 'kdsr').map(() => ' --- |').join('')}`);
const summary = {};
for (const [key, byFramework] of Object.entries(results)) {
  const row = {};
  for (const f of frameworks) {
    const times = byFramework[f].flatMap((m) => m.times);
    row[f] = { time: median(times) / 1000, min: Math.min(...times) / 1000, max: Math.max(...times) / 1000, rss: median(byFramework[f].map((m) => m.peakRssMiB)) };
  }
  summary[key] = row;
  const cells = frameworks.map((f) => `${row[f].time.toFixed(2)} s (${row[f].min.toFixed(2)}-${row[f].max.toFixed(2)}), ${(row[f].rss / 1024).toFixed(2)} GiB`);
  const ratios = frameworks.filter((f) => f !== 'kdsr' && row.kdsr).map((f) => `${(row.kdsr.time / row[f].time).toFixed(2)}x, ${(row.kdsr.rss / row[f].rss).toFixed(2)}x`);
  console.log(`| ${key.replace('x', '×')} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
}

// The same model everywhere: each output sample against PyTorch's (or the first framework's).
const reference = frameworks.includes('torch') ? 'torch' : frameworks[0];
for (const [key, byFramework] of Object.entries(results)) {
  const ref = byFramework[reference][0].sample;
  for (const f of frameworks.filter((g) => g !== reference)) {
    const diff = Math.max(...byFramework[f][0].sample.map((v, i) => Math.abs(v - ref[i])));
    console.log(`${key}: max |${f} - ${reference}| over ${ref.length} sampled output values: ${diff.toExponential(2)}`);
  }
}
if (args.json) fs.writeFileSync(args.json, JSON.stringify({ args, loadBefore, loads, summary }, null, 2));
