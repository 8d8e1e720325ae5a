// Op benchmark (not a test): median forward and backward times of the CPU kernels on KDSR-M
// shapes, through oneDNN (where the build has it) and through the reference kernels, printed as
// a markdown table. Run with `npm run bench -w @kdsr/cuda` after `npm run build`.
// Environment: KDSR_BENCH_ITERS (timed iterations per measurement, default 5),
// KDSR_BENCH_FILTER (only cases whose name contains it).
// To add an op, append a case to `cases`: setup() builds the inputs once and returns closures.
import * as os from 'os';
import { buildInfo, cpuImplementation, numThreads, setCpuImplementation } from '../engine';
import { native } from '../binding';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { conv2d, conv2dBackward, dynDwconv, dynDwconvBackward, leakyRelu, leakyReluBackward, linear, linearBackward } from '../ops';

interface BenchCase {
  /** Op name of op-table.json (used to tell which implementations exist). */
  op: string;
  name: string;
  shapes: string;
  setup(): { forward(): unknown; backward(): unknown };
}

/** Uniform [-1, 1) float32 values from a fixed-seed generator (the values do not matter, only their size). */
function random(shape: number[], seed: number): Tensor {
  let a = seed >>> 0;
  const data = new Float32Array(shape.reduce((x, y) => x * y, 1));
  for (let i = 0; i < data.length; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    data[i] = a / 2147483648 - 1;
  }
  return Tensor.fromArray(data, shape);
}

function convCase(b: number, cin: number, cout: number, size: number, k: number): BenchCase {
  return {
    op: 'conv2d',
    name: `conv2d ${k}x${k} ${cin}->${cout}`,
    shapes: `x [${b},${cin},${size},${size}], bias`,
    setup() {
      const x = random([b, cin, size, size], 1);
      const w = random([cout, cin, k, k], 2);
      const bias = random([cout], 3);
      const dy = random([b, cout, size, size], 4);
      return { forward: () => conv2d(x, w, bias), backward: () => conv2dBackward(dy, x, w) };
    },
  };
}

function dynDwconvCase(b: number, c: number, size: number, k: number, padding: 'zero' | 'reflect', negativeSlope?: number): BenchCase {
  return {
    op: 'dyn_dwconv',
    name: `dyn_dwconv k${k} ${padding}${negativeSlope !== undefined ? ' + LeakyReLU' : ''}`,
    shapes: `x [${b},${c},${size},${size}]`,
    setup() {
      const x = random([b, c, size, size], 5);
      const kernels = random([b, c, k, k], 6);
      const dy = random([b, c, size, size], 7);
      const options = { padding, negativeSlope };
      const y = dynDwconv(x, kernels, options);
      return { forward: () => dynDwconv(x, kernels, options), backward: () => dynDwconvBackward(dy, x, kernels, y, options) };
    },
  };
}

function linearCase(n: number, inFeatures: number, outFeatures: number, bias: boolean): BenchCase {
  return {
    op: 'linear',
    name: `linear ${inFeatures}->${outFeatures}`,
    shapes: `x [${n},${inFeatures}]${bias ? ', bias' : ''}`,
    setup() {
      const x = random([n, inFeatures], 8);
      const w = random([outFeatures, inFeatures], 9);
      const b = bias ? random([outFeatures], 10) : null;
      const dy = random([n, outFeatures], 11);
      return { forward: () => linear(x, w, b), backward: () => linearBackward(dy, x, w, { needBias: bias }) };
    },
  };
}

// The floor under every op that returns a feature map: allocating it and one pass over it.
function leakyReluCase(b: number, c: number, size: number): BenchCase {
  return {
    op: 'leaky_relu',
    name: 'leaky_relu (allocation + one pass)',
    shapes: `x [${b},${c},${size},${size}]`,
    setup() {
      const x = random([b, c, size, size], 12);
      const dy = random([b, c, size, size], 13);
      return { forward: () => leakyRelu(x, 0.1), backward: () => leakyReluBackward(dy, x, 0.1) };
    },
  };
}

// KDSR-M: 64 features, batch 16, 64x64 LR patches (x4: 256x256 HR).
const cases: BenchCase[] = [
  leakyReluCase(16, 64, 64),
  convCase(16, 64, 64, 64, 3), // generator body and encoder
  convCase(16, 3, 64, 64, 3), // generator head
  convCase(16, 64, 256, 64, 3), // x4 upsampler stage (before pixel_shuffle)
  dynDwconvCase(16, 64, 64, 3, 'zero', 0.1), // IDR-DDC with the block's LeakyReLU
  dynDwconvCase(16, 3, 256, 21, 'reflect'), // degradation blur of HR patches
  linearCase(16, 256, 256, true), // encoder MLP
  linearCase(16, 64, 576, false), // IDR-DDC kernel generator (9C outputs)
];

/** "median (min)" of the timed runs, in milliseconds: on a shared machine the minimum shows what the kernel can do. */
function timeMs(fn: () => unknown, iterations: number): string {
  // The block bodies return nothing, so tidy() releases the outputs: a returned tensor would
  // outlive the scope and every run would allocate fresh memory.
  tidy(() => {
    fn(); // warm-up: primitive creation, first-touch allocation
  });
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    tidy(() => {
      fn();
    });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return `${times[Math.floor(times.length / 2)].toFixed(1)} (${times[0].toFixed(1)})`;
}

function main(): void {
  const iterations = Number(process.env.KDSR_BENCH_ITERS ?? 5);
  const filter = process.env.KDSR_BENCH_FILTER ?? '';
  const info = buildInfo();
  const impls: Array<'onednn' | 'reference'> = info.onednn ? ['onednn', 'reference'] : ['reference'];
  const kernels = native().listKernels();
  const hasImpl = (op: string, impl: string) => kernels.some((k) => k.op === op && k.backend === 'cpu' && k.impl === impl);
  const previous = cpuImplementation();

  console.log(`CPU: ${os.cpus()[0]?.model ?? 'unknown'}, ${numThreads()} OpenMP threads; oneDNN ${info.onednn ?? 'absent'}; ${info.compiler}`);
  console.log(`milliseconds, median (minimum) of ${iterations} runs after one warm-up; backward computes every gradient.`);
  console.log(`Ops without a oneDNN kernel run their own kernel under either preference: measured once, in the oneDNN columns.\n`);
  const header = ['op', 'shapes', ...impls.flatMap((impl) => [`forward ${impl}`, `backward ${impl}`])];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => ' --- ').join('|')}|`);
  for (const c of cases.filter((x) => x.name.includes(filter))) {
    const cells: string[] = [];
    tidy(() => {
      const run = c.setup();
      for (const impl of impls) {
        setCpuImplementation(impl);
        // Ops without a oneDNN kernel run their own kernel either way; measure it once.
        if (impl === 'onednn' || hasImpl(c.op, 'onednn') || !info.onednn) {
          cells.push(timeMs(run.forward, iterations), timeMs(run.backward, iterations));
        } else {
          cells.push('(same)', '(same)');
        }
      }
    });
    console.log(`| ${[c.name, c.shapes, ...cells].join(' | ')} |`);
  }
  setCpuImplementation(previous);
}

main();
