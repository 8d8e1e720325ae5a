// Every op on 'cuda:0' against the CPU backend (the reference) on random shapes, forward and backward,
// plus the ops and degradation fixtures, determinism, and the caching allocator's statistics and
// out-of-memory path. diff_jpeg and random_poisson must equal the CPU bit for bit (same arithmetic,
// same Philox stream). Runs in strict FP32 (setCudaMath('fp32')). On a machine without a GPU it is
// skipped with a note.
import { Attrs, emptyCache, fill, memory, runOp, setCudaMath, cudaMath, Tensor, tidy } from '../src/ts';
import { fixtureTensor, randomArray, relativeError } from './helpers';
import { describeGpu } from './cuda-gpu';

type Inputs = Array<Tensor | null>;
interface Case {
  name: string;
  op: string;
  make: () => Inputs;  // CPU inputs; copied to the GPU for the CUDA run
  attrs?: Attrs;
  tol?: number;  // per output, relative to its largest value (the fixtures' metric)
  inplace?: boolean;  // compare the inputs after the call (adam_update)
}

let seed = 1;
function rnd(shape: number[], lo = -1, hi = 1): Tensor {
  return Tensor.fromArray(Float32Array.from(randomArray(shape.reduce((a, b) => a * b, 1), seed++, lo, hi)), shape);
}
function first(op: string, inputs: Inputs, attrs: Attrs = {}): Tensor {
  const [y] = runOp(op, inputs, attrs);
  if (!y) throw new Error(`${op} returned nothing`);
  return y;
}

const F = 1e-5; // forward
const B = 1e-4; // backward
const grads = { need_input: true, need_weight: true, need_bias: true };

function dyn(name: string, x: number[], k: number, padding: 'zero' | 'reflect', slope?: number): Case[] {
  const attrs: Attrs = slope === undefined ? { padding } : { padding, negative_slope: slope };
  const kernels = [x[0], x[1], k, k];
  return [
    { name: `dyn_dwconv ${name}`, op: 'dyn_dwconv', make: () => [rnd(x), rnd(kernels)], attrs, tol: F },
    {
      name: `dyn_dwconv_backward ${name}`,
      op: 'dyn_dwconv_backward',
      make: () => {
        const xs = rnd(x);
        const ks = rnd(kernels);
        return [rnd(x), xs, ks, slope === undefined ? null : first('dyn_dwconv', [xs, ks], attrs)];
      },
      attrs: { ...attrs, need_input: true, need_kernels: true },
      tol: B,
    },
  ];
}

function withOutput(op: string, forward: string, shape: number[], attrs: Attrs = {}): Case {
  return { name: op, op, make: () => [rnd(shape), first(forward, [rnd(shape)], attrs)], attrs, tol: B };
}

/** A banded (rows, cols) matrix like a resize matrix: `width` taps around the diagonal, every 5th row all zero. */
function banded(rows: number, cols: number, width: number): Tensor {
  const r = randomArray(rows * cols, seed++);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    if (i % 5 === 3) continue;
    const centre = Math.floor(((i + 0.5) * cols) / rows);
    for (let j = Math.max(0, centre - width); j <= Math.min(cols - 1, centre + width); j++) data[i * cols + j] = r[i * cols + j];
  }
  return Tensor.fromArray(data, [rows, cols]);
}

/** Poisson rates across both algorithms (Knuth below 10, PTRS from 10) and zero. */
function poissonRates(shape: number[]): Tensor {
  const scales = [0, 0.3, 4, 9.99, 10, 37.5, 300, 1e5];
  const n = shape.reduce((a, b) => a * b, 1);
  const u = randomArray(n, seed++, 0, 1);
  return Tensor.fromArray(Float32Array.from(u, (v, i) => v * scales[i % scales.length]), shape);
}

const cases: Case[] = [
  { name: 'conv2d 3x3 bias', op: 'conv2d', make: () => [rnd([2, 3, 9, 11]), rnd([5, 3, 3, 3]), rnd([5])], tol: F },
  { name: 'conv2d 5x5', op: 'conv2d', make: () => [rnd([1, 4, 7, 6]), rnd([2, 4, 5, 5])], tol: F },
  { name: 'conv2d 64->64', op: 'conv2d', make: () => [rnd([2, 64, 16, 16]), rnd([64, 64, 3, 3], -0.1, 0.1), rnd([64])], tol: F },
  { name: 'conv2d_backward 3x3', op: 'conv2d_backward', make: () => [rnd([2, 5, 9, 11]), rnd([2, 3, 9, 11]), rnd([5, 3, 3, 3])], attrs: grads, tol: B },
  { name: 'conv2d_backward 64->64', op: 'conv2d_backward', make: () => [rnd([2, 64, 16, 16]), rnd([2, 64, 16, 16]), rnd([64, 64, 3, 3])], attrs: grads, tol: B },
  { name: 'conv2d 4x4 stride 2 pad 1', op: 'conv2d', make: () => [rnd([2, 8, 16, 14]), rnd([16, 8, 4, 4])], attrs: { stride: 2, padding: 1 }, tol: F },
  { name: 'conv2d 3x3 stride 2 pad 0 bias', op: 'conv2d', make: () => [rnd([1, 3, 9, 8]), rnd([4, 3, 3, 3]), rnd([4])], attrs: { stride: 2, padding: 0 }, tol: F },
  {
    name: 'conv2d_backward 4x4 stride 2 pad 1',
    op: 'conv2d_backward',
    make: () => [rnd([2, 16, 8, 7]), rnd([2, 8, 16, 14]), rnd([16, 8, 4, 4])],
    attrs: { ...grads, stride: 2, padding: 1 },
    tol: B,
  },
  { name: 'upsample_bilinear2x', op: 'upsample_bilinear2x', make: () => [rnd([2, 3, 5, 7])], tol: F },
  { name: 'upsample_bilinear2x_backward', op: 'upsample_bilinear2x_backward', make: () => [rnd([2, 3, 10, 14])], tol: B },
  { name: 'max_pool2x2', op: 'max_pool2x2', make: () => [rnd([2, 3, 7, 8])], tol: F },
  { name: 'max_pool2x2_backward', op: 'max_pool2x2_backward', make: () => [rnd([2, 3, 3, 4]), rnd([2, 3, 7, 8])], tol: B },
  { name: 'bce_with_logits', op: 'bce_with_logits', make: () => [rnd([2, 1, 32, 32], -30, 30)], attrs: { target: 1 }, tol: F },
  { name: 'bce_with_logits_backward', op: 'bce_with_logits_backward', make: () => [rnd([1]), rnd([2, 1, 16, 16], -30, 30)], attrs: { target: 0 }, tol: B },
  { name: 'spectral_norm training', op: 'spectral_norm', make: () => [rnd([64, 32, 4, 4]), rnd([64]), rnd([512])], attrs: { training: true }, tol: F },
  { name: 'spectral_norm eval', op: 'spectral_norm', make: () => [rnd([16, 8, 3, 3]), rnd([16]), rnd([72])], attrs: { training: false }, tol: F },
  { name: 'spectral_norm_backward', op: 'spectral_norm_backward', make: () => [rnd([16, 8, 3, 3]), rnd([16, 8, 3, 3]), rnd([16]), rnd([72])], tol: B },
  ...dyn('3x3 zero', [2, 4, 5, 6], 3, 'zero'),
  ...dyn('3x3 zero leaky', [3, 8, 40, 70], 3, 'zero', 0.1),
  ...dyn('3x3 reflect leaky', [2, 3, 33, 65], 3, 'reflect', 0.1),
  ...dyn('5x5 reflect', [1, 2, 6, 9], 5, 'reflect'),
  ...dyn('7x7 zero', [2, 2, 31, 33], 7, 'zero', 0.2),
  ...dyn('9x9 reflect (border pixels with 3 preimages)', [1, 3, 10, 12], 9, 'reflect', 0.1),
  ...dyn('21x21 reflect', [2, 2, 40, 37], 21, 'reflect'),
  ...dyn('51x51 zero', [1, 2, 60, 70], 51, 'zero', 0.1),
  ...dyn('51x51 reflect', [1, 1, 52, 64], 51, 'reflect'),
  ...dyn('3x3 many planes, one tile', [64, 64, 12, 12], 3, 'zero', 0.1),
  { name: 'linear', op: 'linear', make: () => [rnd([7, 33]), rnd([10, 33]), rnd([10])], tol: F },
  { name: 'linear no bias', op: 'linear', make: () => [rnd([3, 6]), rnd([5, 6])], tol: F },
  { name: 'linear_backward', op: 'linear_backward', make: () => [rnd([7, 10]), rnd([7, 33]), rnd([10, 33])], attrs: grads, tol: B },
  { name: 'leaky_relu', op: 'leaky_relu', make: () => [rnd([2, 3, 4, 5])], attrs: { negative_slope: 0.1 }, tol: F },
  { name: 'leaky_relu_backward', op: 'leaky_relu_backward', make: () => [rnd([2, 3, 4, 5]), rnd([2, 3, 4, 5])], attrs: { negative_slope: 0.1 }, tol: F },
  { name: 'add', op: 'add', make: () => [rnd([3, 1000]), rnd([3, 1000])], tol: F },
  { name: 'sub', op: 'sub', make: () => [rnd([3, 7]), rnd([3, 7])], tol: F },
  { name: 'mul', op: 'mul', make: () => [rnd([3, 7]), rnd([3, 7])], tol: F },
  { name: 'scale', op: 'scale', make: () => [rnd([5, 7])], attrs: { alpha: -2.5 }, tol: F },
  { name: 'axpy', op: 'axpy', make: () => [rnd([5, 7]), rnd([5, 7])], attrs: { alpha: 0.3 }, tol: F },
  { name: 'concat_channels', op: 'concat_channels', make: () => [rnd([2, 3, 4, 5]), rnd([2, 4, 4, 5])], tol: 0 },
  { name: 'slice_channels', op: 'slice_channels', make: () => [rnd([2, 7, 4, 5])], attrs: { start: 2, length: 3 }, tol: 0 },
  { name: 'slice_channels_backward', op: 'slice_channels_backward', make: () => [rnd([2, 3, 4, 5])], attrs: { start: 2, channels: 7 }, tol: 0 },
  { name: 'pixel_shuffle', op: 'pixel_shuffle', make: () => [rnd([2, 18, 3, 4])], attrs: { factor: 3 }, tol: 0 },
  { name: 'pixel_unshuffle', op: 'pixel_unshuffle', make: () => [rnd([2, 3, 8, 12])], attrs: { factor: 4 }, tol: 0 },
  { name: 'global_avg_pool', op: 'global_avg_pool', make: () => [rnd([3, 5, 17, 19])], tol: F },
  { name: 'global_avg_pool_backward', op: 'global_avg_pool_backward', make: () => [rnd([3, 5])], attrs: { height: 4, width: 6 }, tol: F },
  { name: 'channel_affine', op: 'channel_affine', make: () => [rnd([2, 3, 4, 5]), rnd([3]), rnd([3])], tol: F },
  {
    name: 'channel_affine_backward',
    op: 'channel_affine_backward',
    make: () => [rnd([4, 3, 20, 21]), rnd([4, 3, 20, 21]), rnd([3])],
    attrs: { need_input: true, need_scale: true, need_shift: true },
    tol: B,
  },
  { name: 'l1_loss', op: 'l1_loss', make: () => [rnd([4, 3, 64, 64]), rnd([4, 3, 64, 64])], tol: F },
  { name: 'l1_loss_backward', op: 'l1_loss_backward', make: () => [rnd([1]), rnd([2, 3, 4, 5]), rnd([2, 3, 4, 5])], tol: F },
  { name: 'softmax', op: 'softmax', make: () => [rnd([5, 300], -5, 5)], tol: F },
  { name: 'log_softmax', op: 'log_softmax', make: () => [rnd([2, 3, 17], -5, 5)], tol: F },
  withOutput('softmax_backward', 'softmax', [5, 300]),
  withOutput('log_softmax_backward', 'log_softmax', [4, 33]),
  { name: 'kd_loss', op: 'kd_loss', make: () => [rnd([6, 256], -3, 3), rnd([6, 256], -3, 3)], attrs: { tau: 0.15 }, tol: F },
  { name: 'kd_loss_backward', op: 'kd_loss_backward', make: () => [rnd([1]), rnd([6, 256], -3, 3), rnd([6, 256], -3, 3)], attrs: { tau: 0.15 }, tol: B },
  ...[undefined, 0, 1, -1].flatMap((dim): Case[] =>
    ['reduce_sum', 'reduce_mean', 'reduce_max'].map((op) => ({ name: `${op} dim ${dim}`, op, make: () => [rnd([6, 70, 9])], attrs: dim === undefined ? {} : { dim }, tol: F })),
  ),
  { name: 'reduce_sum all of 1e6', op: 'reduce_sum', make: () => [rnd([1000, 1000])], tol: F },
  { name: 'reduce_backward dim 1', op: 'reduce_backward', make: () => [rnd([6, 9])], attrs: { shape: [6, 70, 9], dim: 1, alpha: 0.5 }, tol: F },
  { name: 'reduce_backward all', op: 'reduce_backward', make: () => [rnd([1])], attrs: { shape: [6, 7], alpha: 2 }, tol: F },
  {
    name: 'reduce_max_backward dim -1',
    op: 'reduce_max_backward',
    make: () => {
      const x = rnd([6, 70, 9]);
      return [rnd([6, 70]), x, first('reduce_max', [x], { dim: -1 })];
    },
    attrs: { dim: -1 },
    tol: F,
  },
  { name: 'clamp', op: 'clamp', make: () => [rnd([3, 50], -2, 2)], attrs: { min: -0.5, max: 0.75 }, tol: 0 },
  { name: 'clamp_backward', op: 'clamp_backward', make: () => [rnd([3, 50]), rnd([3, 50], -2, 2)], attrs: { min: -0.5, max: 0.75 }, tol: 0 },
  { name: 'quantize', op: 'quantize', make: () => [rnd([3, 1000], -0.2, 1.2)], attrs: { levels: 255 }, tol: 0 },
  { name: 'resize_separable (spans, all-zero rows)', op: 'resize_separable', make: () => [rnd([2, 3, 40, 30]), banded(17, 40, 3), banded(50, 30, 2)], tol: F },
  { name: 'resize_separable 4x shrink of 256x192', op: 'resize_separable', make: () => [rnd([4, 3, 256, 192]), banded(64, 256, 8), banded(48, 192, 8)], tol: F },
  { name: 'resize_separable 1 -> 7 columns', op: 'resize_separable', make: () => [rnd([1, 2, 5, 1]), banded(9, 5, 2), rnd([7, 1])], tol: F },
  {
    name: 'diff_jpeg with coefficients, padded to 16 (bit for bit)',
    op: 'diff_jpeg',
    make: () => [rnd([4, 3, 37, 53], 0, 1), Tensor.fromArray([1, 30, 57.3, 99.5], [4])],
    attrs: { need_coefficients: true },
    tol: 0,
  },
  { name: 'diff_jpeg 96x128 (bit for bit)', op: 'diff_jpeg', make: () => [rnd([3, 3, 96, 128], 0, 1), Tensor.fromArray([12.5, 49.99, 95], [3])], tol: 0 },
  { name: 'random_poisson (bit for bit)', op: 'random_poisson', make: () => [poissonRates([4, 3, 96, 96])], attrs: { seed: 2 ** 40 + 3, offset: 2 ** 33 + 5 }, tol: 0 },
  { name: 'random_poisson, seed 0, offset 0 (bit for bit)', op: 'random_poisson', make: () => [poissonRates([1001])], attrs: { seed: 0, offset: 0 }, tol: 0 },
];

// Ops without tensor inputs: the device is an attribute, the stream must be the CPU's exactly.
const creators: Array<{ name: string; op: string; attrs: Attrs; tol: number }> = [
  { name: 'fill', op: 'fill', attrs: { shape: [3, 1001], value: 0.7, dtype: 'float32' }, tol: 0 },
  { name: 'random_uniform', op: 'random_uniform', attrs: { shape: [5, 1003], seed: 2 ** 40 + 7, offset: 3, low: -2, high: 3, dtype: 'float32' }, tol: 0 },
  { name: 'random_normal', op: 'random_normal', attrs: { shape: [5, 1003], seed: 12345, offset: 2 ** 33, mean: 1, std: 2, dtype: 'float32' }, tol: 1e-6 },
];

function expectOutputsClose(label: string, actual: Array<Tensor | null>, expected: Array<Tensor | null>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => {
    const a = actual[i];
    if (!e) {
      expect(a).toBeNull();
      return;
    }
    expect(a).not.toBeNull();
    expect(a!.device).toMatch(/^cuda:/);
    expect(a!.shape).toEqual(e.shape);
    const error = relativeError(a!.toArray(), e.toArray());
    if (!(error <= tol)) throw new Error(`${label}, output ${i}: relative error ${error.toExponential(3)} > ${tol}`);
  });
}

describeGpu('CUDA parity with the CPU backend', (device) => {
  let mathBefore: 'tf32' | 'fp32';
  beforeAll(() => {
    mathBefore = cudaMath();
    setCudaMath('fp32');
  });
  afterAll(() => setCudaMath(mathBefore));

  test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    tidy(() => {
      const inputs = c.make();
      const gpuInputs = inputs.map((t) => (t ? t.to(device) : null));
      const expected = runOp(c.op, inputs, c.attrs ?? {});
      const actual = runOp(c.op, gpuInputs, c.attrs ?? {});
      expectOutputsClose(c.name, actual, expected, c.tol ?? F);
    });
  });

  test.each(creators.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    tidy(() => {
      const expected = runOp(c.op, [], { ...c.attrs, device: 'cpu' });
      const actual = runOp(c.op, [], { ...c.attrs, device });
      expectOutputsClose(c.name, actual, expected, c.tol);
    });
  });

  test('adam_update (multi-tensor, more tensors than one launch takes) updates in place as on the CPU', () => {
    tidy(() => {
      const shapes = Array.from({ length: 30 }, (_, i) => [1 + (i % 5), 3 + 97 * (i % 3)]);
      const lists = [0, 1, 2, 3].map((l) => shapes.map((s) => (l === 3 ? rnd(s, 0, 1) : rnd(s))));
      const gpu = lists.map((list) => list.map((t) => t.to(device)));
      for (const decoupled of [false, true]) {
        const attrs = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01, decoupled, step: decoupled ? 2 : 1 };
        runOp('adam_update', lists.flat(), attrs);
        runOp('adam_update', gpu.flat(), attrs);
      }
      [0, 2, 3].forEach((l) => lists[l].forEach((t, i) => expect(relativeError(gpu[l][i].toArray(), t.toArray())).toBeLessThanOrEqual(1e-5)));
    });
  });

  test('matches the ops fixtures (conv2d, dyn_dwconv, linear, kd and l1 losses)', () => {
    tidy(() => {
      const fx = (name: string) => fixtureTensor('ops.safetensors', name).to(device);
      const close = (t: Tensor | null, name: string, tol: number) => expect(relativeError(t!.toArray(), fixtureTensor('ops.safetensors', name).toArray())).toBeLessThanOrEqual(tol);
      close(first('conv2d', [fx('conv2d.x'), fx('conv2d.weight'), fx('conv2d.bias')]), 'conv2d.y', F);
      const [cdx, cdw, cdb] = runOp('conv2d_backward', [fx('conv2d.dy'), fx('conv2d.x'), fx('conv2d.weight')], grads);
      close(cdx, 'conv2d.grad_x', B);
      close(cdw, 'conv2d.grad_weight', B);
      close(cdb, 'conv2d.grad_bias', B);
      close(first('dyn_dwconv', [fx('dyndw.x'), fx('dyndw.kernels')], { padding: 'zero' }), 'dyndw.y', F);
      const [ddx, ddk] = runOp('dyn_dwconv_backward', [fx('dyndw.dy'), fx('dyndw.x'), fx('dyndw.kernels'), null], { padding: 'zero', need_input: true, need_kernels: true });
      close(ddx, 'dyndw.grad_x', B);
      close(ddk, 'dyndw.grad_kernels', B);
      close(first('linear', [fx('linear_bias.x'), fx('linear_bias.weight'), fx('linear_bias.bias')]), 'linear_bias.y', F);
      close(first('kd_loss', [fx('kd.student'), fx('kd.teacher')], { tau: 0.15 }), 'kd.loss', F);
      close(first('l1_loss', [fx('l1.a'), fx('l1.b')]), 'l1.loss', F);
    });
  });

  test('matches the degradation fixtures (imresize by resize_separable; diff_jpeg outputs and exact coefficients)', () => {
    tidy(() => {
      const R = 'realesrgan.safetensors';
      const fx = (name: string) => fixtureTensor(R, name).to(device);
      const close = (t: Tensor | null, name: string, tol: number) => expect(relativeError(t!.toArray(), fixtureTensor(R, name).toArray())).toBeLessThanOrEqual(tol);
      for (const c of ['down4', 'down3', 'scale_0p6'])
        close(first('resize_separable', [fx('resize.input'), fx(`imresize.${c}.matrix_h`), fx(`imresize.${c}.matrix_w`)]), `imresize.${c}`, F);
      const [y, coefY, coefCb, coefCr] = runOp('diff_jpeg', [fx('jpeg.input'), fx('jpeg.quality')], { need_coefficients: true });
      close(y, 'jpeg.output', F);
      for (const [t, name] of [
        [coefY, 'jpeg.coef_y'],
        [coefCb, 'jpeg.coef_cb'],
        [coefCr, 'jpeg.coef_cr'],
      ] as const) {
        expect(t!.shape).toEqual(fixtureTensor(R, name).shape);
        close(t, name, 0);
      }
      close(first('diff_jpeg', [fx('jpeg_const.input'), fx('jpeg_const.quality')]), 'jpeg_const.output', F);
    });
  });

  test('not checked on the GPU: a bad quality or rate gives NaN where the CPU throws', () => {
    tidy(() => {
      const y = first('diff_jpeg', [rnd([2, 3, 16, 16], 0, 1).to(device), Tensor.fromArray([50, 0], [2]).to(device)]).toArray();
      expect(y.slice(0, 768).every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(y.slice(768).every((v) => Number.isNaN(v))).toBe(true);
      const counts = first('random_poisson', [Tensor.fromArray([2, -1, Infinity, NaN, 0], [5]).to(device)], { seed: 1, offset: 0 }).toArray();
      expect(Number.isInteger(counts[0]) && counts[4] === 0).toBe(true);
      expect(Array.from(counts.slice(1, 4)).every((v) => Number.isNaN(v))).toBe(true);
    });
  });

  test('dyn_dwconv_backward is bitwise deterministic', () => {
    tidy(() => {
      const attrs = { padding: 'reflect', negative_slope: 0.1, need_input: true, need_kernels: true };
      const x = rnd([2, 8, 70, 70]).to(device);
      const k = rnd([2, 8, 3, 3]).to(device);
      const y = first('dyn_dwconv', [x, k], attrs);
      const dy = rnd([2, 8, 70, 70]).to(device);
      const a = runOp('dyn_dwconv_backward', [dy, x, k, y], attrs);
      const b = runOp('dyn_dwconv_backward', [dy, x, k, y], attrs);
      expect(Array.from(b[1]!.toArray())).toEqual(Array.from(a[1]!.toArray()));
      expect(Array.from(b[0]!.toArray())).toEqual(Array.from(a[0]!.toArray()));
    });
  });

  test('the caching allocator reports live, peak and reserved bytes and keeps freed blocks', () => {
    emptyCache(device);
    const before = memory(device);
    const t = fill([1024, 1024], 1, { device });
    const during = memory(device);
    expect(during.liveBytes - before.liveBytes).toBe(4 << 20);
    expect(during.liveBuffers - before.liveBuffers).toBe(1);
    expect(during.peakBytes).toBeGreaterThanOrEqual(during.liveBytes);
    expect(during.reservedBytes).toBeGreaterThanOrEqual(during.liveBytes);
    t.dispose();
    const after = memory(device);
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.reservedBytes).toBe(during.reservedBytes); // cached, not returned
    const again = fill([1024, 1024], 2, { device });
    expect(memory(device).reservedBytes).toBe(during.reservedBytes); // the cached block is reused
    again.dispose();
    emptyCache(device);
    expect(memory(device).reservedBytes).toBeLessThan(during.reservedBytes);
  });

  test('out of memory raises ERR_KDSR_OOM naming the request and the pool, and the process can go on', () => {
    const keep = fill([256, 1024], 1, { device });
    let error: (Error & { code?: string }) | undefined;
    try {
      fill([2 ** 40], 0, { device }); // 4 TiB
    } catch (e) {
      error = e as Error & { code?: string };
    }
    expect(error?.code).toBe('ERR_KDSR_OOM');
    expect(error?.message).toMatch(/out of memory on cuda:0: cannot allocate .* \(4398046511104 bytes\) after releasing the cached blocks and retrying; .* live in \d+ tensors, .* reserved/);
    const after = fill([1024], 3, { device });
    expect(Array.from(after.toArray()).every((v) => v === 3)).toBe(true);
    expect(Array.from(keep.toArray().slice(0, 4))).toEqual([1, 1, 1, 1]);
    keep.dispose();
    after.dispose();
  });
});
