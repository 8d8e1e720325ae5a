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
import {
  adamUpdate,
  add,
  axpy,
  channelAffine,
  channelAffineBackward,
  clamp,
  clampBackward,
  concatChannels,
  conv2d,
  conv2dBackward,
  dynDwconv,
  dynDwconvBackward,
  fill,
  globalAvgPool,
  globalAvgPoolBackward,
  kdLoss,
  kdLossBackward,
  l1Loss,
  l1LossBackward,
  leakyRelu,
  leakyReluBackward,
  linear,
  linearBackward,
  logSoftmax,
  logSoftmaxBackward,
  mul,
  pixelShuffle,
  pixelUnshuffle,
  quantize,
  randomNormal,
  randomUniform,
  reduceBackward,
  reduceMax,
  reduceMaxBackward,
  reduceMean,
  reduceSum,
  scale,
  sliceChannels,
  sliceChannelsBackward,
  softmax,
  softmaxBackward,
  sub,
} from '../ops';

interface BenchCase {
  /** Op name of op-table.json (used to tell which implementations exist). */
  op: string;
  name: string;
  shapes: string;
  /** backward is absent for ops without a backward kernel (composite or no gradient). */
  setup(): { forward(): unknown; backward?(): unknown };
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

/** An op with no backward kernel of its own (its gradient is built from forward ops, or it has none). */
function forwardCase(op: string, name: string, shape: number[], forward: (inputs: Tensor[]) => unknown, arity = 1): BenchCase {
  return {
    op,
    name,
    shapes: `${arity === 0 ? 'y' : 'x'} [${shape}]`,
    setup() {
      const inputs = Array.from({ length: arity }, (_, i) => random(shape, 20 + i));
      return { forward: () => forward(inputs) };
    },
  };
}

function unaryCase(op: string, name: string, shape: number[], forward: (x: Tensor) => unknown, backward: (dy: Tensor, x: Tensor, y: Tensor) => unknown): BenchCase {
  return {
    op,
    name,
    shapes: `x [${shape}]`,
    setup() {
      const x = random(shape, 30);
      const y = forward(x) as Tensor;
      const dy = random(y.shape as number[], 31);
      return { forward: () => forward(x), backward: () => backward(dy, x, y) };
    },
  };
}

// KdsrStudent('M', scale 4)'s parameter list (kdsr-core, which this package cannot import):
// 276 tensors, 5,795,099 values, as [shape, count].
const KDSR_M_PARAMETERS: Array<[number[], number]> = [
  [[3], 3], [[64], 75], [[128], 2], [[256], 5], [[3, 3, 1, 1], 2], [[64, 3, 3, 3], 2], [[64, 64], 53], [[576, 64], 53], [[64, 64, 3, 3], 72],
  [[256, 64, 3, 3], 2], [[3, 64, 3, 3], 1], [[128, 64, 3, 3], 1], [[128, 128, 3, 3], 1], [[256, 128, 3, 3], 1], [[256, 256], 2], [[64, 256], 1],
];

function adamCase(): BenchCase {
  const shapes = KDSR_M_PARAMETERS.flatMap(([shape, count]) => Array.from({ length: count }, () => shape));
  const values = shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
  return {
    op: 'adam_update',
    name: 'adam_update (KDSR-M parameters)',
    shapes: `${shapes.length} tensors, ${(values / 1e6).toFixed(2)}M values`,
    setup() {
      const lists = [0, 1, 2, 3].map((list) => shapes.map((shape, k) => random(shape, 1000 * list + k)));
      // exp_avg_sq must not be negative: start it from squared gradients.
      lists[3] = lists[1].map((g) => mul(g, g));
      let step = 0;
      return { forward: () => adamUpdate(lists[0], lists[1], lists[2], lists[3], { lr: 1e-4, step: ++step }) };
    },
  };
}

const B = 16;
const C = 64;
const LR = 64; // LR patch size; HR is 4x
const FEATURES: number[] = [B, C, LR, LR];
const HR_IMAGES: number[] = [B, 3, 4 * LR, 4 * LR];

// KDSR-M: 64 features, batch 16, 64x64 LR patches (x4: 256x256 HR).
const cases: BenchCase[] = [
  leakyReluCase(B, C, LR),
  convCase(B, C, C, LR, 3), // generator body and encoder
  convCase(B, 3, C, LR, 3), // generator head
  convCase(B, C, 4 * C, LR, 3), // x4 upsampler stage (before pixel_shuffle)
  dynDwconvCase(B, C, LR, 3, 'zero', 0.1), // IDR-DDC with the block's LeakyReLU
  dynDwconvCase(B, 3, 4 * LR, 21, 'reflect'), // degradation blur of HR patches
  linearCase(B, 4 * C, 4 * C, true), // encoder MLP
  linearCase(B, C, 9 * C, false), // IDR-DDC kernel generator (9C outputs)
  // Elementwise arithmetic (residual adds, gradient accumulation); gradients are these same ops.
  forwardCase('add', 'add', FEATURES, ([a, b]) => add(a, b), 2),
  forwardCase('sub', 'sub', FEATURES, ([a, b]) => sub(a, b), 2),
  forwardCase('mul', 'mul', FEATURES, ([a, b]) => mul(a, b), 2),
  forwardCase('scale', 'scale', FEATURES, ([x]) => scale(x, 0.5)),
  forwardCase('axpy', 'axpy', FEATURES, ([x, y]) => axpy(x, y, 0.5), 2),
  {
    // The teacher's input: LR concatenated with the pixel-unshuffled HR; backward = its two slices.
    op: 'concat_channels',
    name: 'concat_channels (backward: 2 slices)',
    shapes: `a [${B},3,${LR},${LR}], b [${B},48,${LR},${LR}]`,
    setup() {
      const a = random([B, 3, LR, LR], 40);
      const b = random([B, 48, LR, LR], 41);
      const dy = random([B, 51, LR, LR], 42);
      return { forward: () => concatChannels(a, b), backward: () => [sliceChannels(dy, 0, 3), sliceChannels(dy, 3, 48)] };
    },
  },
  unaryCase('slice_channels', 'slice_channels', [B, 2 * C, LR, LR], (x) => sliceChannels(x, C, C), (dy) => sliceChannelsBackward(dy, C, 2 * C)),
  // x4 tail, first of its two x2 stages (256 -> 64 channels); the gradient is the inverse op.
  unaryCase('pixel_shuffle', 'pixel_shuffle x2', [B, 4 * C, LR, LR], (x) => pixelShuffle(x, 2), (dy) => pixelUnshuffle(dy, 2)),
  // The teacher sees HR pixel-unshuffled to LR size (3 -> 48 channels).
  unaryCase('pixel_unshuffle', 'pixel_unshuffle x4', HR_IMAGES, (x) => pixelUnshuffle(x, 4), (dy) => pixelShuffle(dy, 4)),
  // The encoder pools its 4C feature maps.
  unaryCase('global_avg_pool', 'global_avg_pool', [B, 4 * C, LR, LR], (x) => globalAvgPool(x), (dy) => globalAvgPoolBackward(dy, LR, LR)),
  {
    op: 'channel_affine',
    name: 'channel_affine (mean shift)',
    shapes: `x [${HR_IMAGES}]`,
    setup() {
      const x = random(HR_IMAGES, 50);
      const s = random([3], 51);
      const t = random([3], 52);
      const dy = random(HR_IMAGES, 53);
      return {
        forward: () => channelAffine(x, s, t),
        backward: () => channelAffineBackward(dy, x, s, { needInput: true, needScale: true, needShift: true }),
      };
    },
  },
  {
    op: 'l1_loss',
    name: 'l1_loss (SR vs HR)',
    shapes: `a, b [${HR_IMAGES}]`,
    setup() {
      const a = random(HR_IMAGES, 60);
      const b = random(HR_IMAGES, 61);
      const dloss = random([1], 62);
      return { forward: () => l1Loss(a, b), backward: () => l1LossBackward(dloss, a, b) };
    },
  },
  unaryCase('softmax', 'softmax', [B, 4 * C], (x) => softmax(x), (dy, _x, y) => softmaxBackward(dy, y)),
  unaryCase('log_softmax', 'log_softmax', [B, 4 * C], (x) => logSoftmax(x), (dy, _x, y) => logSoftmaxBackward(dy, y)),
  {
    op: 'kd_loss',
    name: 'kd_loss (tau 0.15)',
    shapes: `student, teacher [${B},${4 * C}]`,
    setup() {
      const s = random([B, 4 * C], 70);
      const t = random([B, 4 * C], 71);
      const dloss = random([1], 72);
      return { forward: () => kdLoss(s, t, 0.15), backward: () => kdLossBackward(dloss, s, t, 0.15) };
    },
  },
  unaryCase('reduce_sum', 'reduce_sum (all)', FEATURES, (x) => reduceSum(x), (dy) => reduceBackward(dy, FEATURES)),
  unaryCase('reduce_mean', 'reduce_mean (dim 1)', FEATURES, (x) => reduceMean(x, 1), (dy) => reduceBackward(dy, FEATURES, { dim: 1, alpha: 1 / C })),
  unaryCase('reduce_max', 'reduce_max (all)', FEATURES, (x) => reduceMax(x), (dy, x, y) => reduceMaxBackward(dy, x, y)),
  unaryCase('clamp', 'clamp (SR to [0, 1])', HR_IMAGES, (x) => clamp(x, 0, 1), (dy, x) => clampBackward(dy, x, 0, 1)),
  forwardCase('quantize', 'quantize (255 levels)', HR_IMAGES, ([x]) => quantize(x, 255)),
  forwardCase('fill', 'fill', FEATURES, () => fill(FEATURES, 0), 0),
  forwardCase('random_uniform', 'random_uniform', FEATURES, () => randomUniform(FEATURES, { seed: 1 }), 0),
  forwardCase('random_normal', 'random_normal', FEATURES, () => randomNormal(FEATURES, { seed: 1 }), 0),
  adamCase(),
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
          cells.push(timeMs(run.forward, iterations), run.backward ? timeMs(run.backward, iterations) : '-');
        } else {
          cells.push('(same)', run.backward ? '(same)' : '-');
        }
      }
    });
    console.log(`| ${[c.name, c.shapes, ...cells].join(' | ')} |`);
  }
  setCpuImplementation(previous);
}

main();
