import { cpuIsa, dynDwconv, dynDwconvBackward, leakyRelu, numThreads, runOp, setCpuIsa, setNumThreads, supportedCpuIsas, Tensor, tidy } from '../src/ts';
import type { DynDwconvPadding } from '../src/ts';
import { expectClose, fixtureTensor, randomArray, randomTensor } from './helpers';
import { expectGradClose, numericalVjp } from './gradcheck';

const F = 'ops.safetensors';

/** Index into 0..n-1 after padding: mirror without repeating the edge, or -1 for a zero. */
function source(t: number, n: number, padding: DynDwconvPadding): number {
  if (t >= 0 && t < n) return t;
  if (padding === 'zero') return -1;
  return t < 0 ? -t : 2 * (n - 1) - t;
}

/** Direct evaluation of the definition, in float64. */
function dynDwconvDirect(x: Tensor, kernels: Tensor, padding: DynDwconvPadding): Float64Array {
  const [B, C, H, W] = x.shape;
  const k = kernels.shape[2];
  const p = (k - 1) / 2;
  const xv = x.toArray();
  const kv = kernels.toArray();
  const y = new Float64Array(B * C * H * W);
  for (let plane = 0; plane < B * C; plane++)
    for (let r = 0; r < H; r++)
      for (let q = 0; q < W; q++) {
        let s = 0;
        for (let u = 0; u < k; u++)
          for (let v = 0; v < k; v++) {
            const rr = source(r + u - p, H, padding);
            const qq = source(q + v - p, W, padding);
            if (rr >= 0 && qq >= 0) s += kv[(plane * k + u) * k + v] * xv[(plane * H + rr) * W + qq];
          }
        y[(plane * H + r) * W + q] = s;
      }
  return y;
}

/** (N,k,k) kernels, one per sample, repeated over `channels` channels: (N,channels,k,k). */
function perChannel(kernels: Tensor, channels: number): Tensor {
  const [n, k] = kernels.shape;
  const src = kernels.toFloat32Array();
  const out = new Float32Array(n * channels * k * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) out.set(src.subarray(i * k * k, (i + 1) * k * k), (i * channels + c) * k * k);
  return Tensor.fromArray(out, [n, channels, k, k]);
}

/** x repeated `times` times along the batch. */
function repeatBatch(x: Tensor, times: number): Tensor {
  const src = x.toFloat32Array();
  const out = new Float32Array(src.length * times);
  for (let i = 0; i < times; i++) out.set(src, i * src.length);
  return Tensor.fromArray(out, [x.shape[0] * times, ...x.shape.slice(1)]);
}

/**
 * Inputs whose pre-activations stay at least 0.25 away from the LeakyReLU kink: |x| in [0.5, 1]
 * and kernels whose centre tap (|c| in [1.5, 2]) outweighs all the others together (sum of
 * |other taps| = 0.5), so |pre| >= 1.5 * 0.5 - 0.5 * 1.
 */
function awayFromKink(xShape: number[], k: number, seed: number): [Tensor, Tensor] {
  const n = xShape.reduce((a, b) => a * b, 1);
  const magnitude = randomArray(n, seed, 0.5, 1);
  const sign = randomArray(n, seed + 1);
  const x = Tensor.fromArray(magnitude.map((m, i) => (sign[i] < 0 ? -m : m)), xShape);
  const planes = xShape[0] * xShape[1];
  const taps = randomArray(planes * k * k, seed + 2);
  const centre = randomArray(planes, seed + 3, 1.5, 2);
  const centreSign = randomArray(planes, seed + 4);
  const c = (k * k - 1) / 2;
  for (let plane = 0; plane < planes; plane++) {
    const kernel = taps.subarray(plane * k * k, (plane + 1) * k * k);
    kernel[c] = 0;
    const mass = kernel.reduce((a, b) => a + Math.abs(b), 0);
    for (let t = 0; t < k * k; t++) kernel[t] = mass > 0 ? (0.5 * kernel[t]) / mass : 0;
    kernel[c] = centreSign[plane] < 0 ? -centre[plane] : centre[plane];
  }
  return [x, Tensor.fromArray(taps, [xShape[0], xShape[1], k, k])];
}

function minAbs(t: Tensor): number {
  return Array.from(t.toArray()).reduce((m, v) => Math.min(m, Math.abs(v)), Infinity);
}

// [x shape, k, padding]: batch 1, odd and non-square planes, k = 1, 3, 5, 21 (21 also wider than
// the plane); rows of 45 and 40 reach the kernels' 4-vector and 1-vector loops in float64 at every
// vector width.
const cases: Array<[number[], number, DynDwconvPadding]> = [
  [[2, 3, 4, 5], 1, 'zero'],
  [[2, 3, 4, 5], 1, 'reflect'],
  [[1, 2, 5, 7], 3, 'zero'],
  [[1, 2, 5, 7], 3, 'reflect'],
  [[2, 1, 6, 5], 5, 'zero'],
  [[2, 1, 6, 5], 5, 'reflect'],
  [[1, 1, 7, 9], 21, 'zero'],
  [[1, 1, 11, 13], 21, 'reflect'],
  [[1, 2, 3, 45], 3, 'zero'],
  [[1, 1, 4, 45], 5, 'reflect'],
  [[1, 1, 11, 40], 21, 'reflect'],
];

// float32 shapes whose rows (85 = 4*16 + 16 + 5 with 16 lanes, 2*32 + 2*8 + 5 with 8, 5*16 + 4 + 1
// with 4) reach every loop of the float32 kernels at every vector width.
const wideCases: Array<[number[], number, DynDwconvPadding]> = [
  [[2, 3, 7, 85], 3, 'zero'],
  [[2, 3, 7, 85], 3, 'reflect'],
  [[1, 2, 9, 85], 5, 'reflect'],
  [[1, 2, 9, 85], 7, 'zero'],
  [[1, 2, 23, 85], 21, 'reflect'],
];

// The kernels are compiled for each instruction set (AVX-512, AVX2, baseline x86-64, with vectors
// of 64, 32 and 16 bytes); every one this CPU can run is checked.
describe.each(supportedCpuIsas())('dyn_dwconv with the %s kernels', (isa) => {
  const initialIsa = cpuIsa();
  beforeAll(() => setCpuIsa(isa));
  afterAll(() => setCpuIsa(initialIsa));

  test('runs the variant asked for', () => {
    expect(cpuIsa()).toBe(isa);
  });

  test('matches the fixture forward and gradients', () => {
    tidy(() => {
      const x = fixtureTensor(F, 'dyndw.x');
      const kernels = fixtureTensor(F, 'dyndw.kernels');
      expectClose(dynDwconv(x, kernels), fixtureTensor(F, 'dyndw.y'), 1e-5, 'y');
      const g = dynDwconvBackward(fixtureTensor(F, 'dyndw.dy'), x, kernels, null);
      expectClose(g.dx!, fixtureTensor(F, 'dyndw.grad_x'), 1e-4, 'grad_x');
      expectClose(g.dkernels!, fixtureTensor(F, 'dyndw.grad_kernels'), 1e-4, 'grad_kernels');
    });
  });

  test('reproduces the degradation fixtures: 21x21 Gaussian blurs with reflect padding', () => {
    tidy(() => {
      const D = 'degradation.safetensors';
      const image = fixtureTensor(D, 'image.hr');
      for (const family of ['iso', 'aniso']) {
        const kernels = fixtureTensor(D, `kernel.${family}`);
        const y = dynDwconv(repeatBatch(image, kernels.shape[0]), perChannel(kernels, 3), { padding: 'reflect' });
        expectClose(y, fixtureTensor(D, `blur.${family}`), 1e-5, `blur.${family}`);
      }
    });
  });

  test('reproduces the Real-ESRGAN filter2D fixtures: asymmetric 7x7 and 21x21, and a 51x51 USM blur', () => {
    tidy(() => {
      const R = 'realesrgan.safetensors';
      const input = fixtureTensor(R, 'filter2d.input');
      for (const k of [7, 21]) {
        const y = dynDwconv(input, perChannel(fixtureTensor(R, `filter2d.k${k}.kernel`), 3), { padding: 'reflect' });
        expectClose(y, fixtureTensor(R, `filter2d.k${k}.output`), 1e-5, `filter2d.k${k}`);
      }
      const g = fixtureTensor(R, 'usm.kernel1d').toArray();
      const kernel = new Float32Array(51 * 51).map((_, i) => g[Math.floor(i / 51)] * g[i % 51]);
      const usmInput = fixtureTensor(R, 'usm.input');
      const kernels = perChannel(repeatBatch(Tensor.fromArray(kernel, [1, 51, 51]), usmInput.shape[0]), 3);
      expectClose(dynDwconv(usmInput, kernels, { padding: 'reflect' }), fixtureTensor(R, 'usm.blur'), 1e-5, 'usm.blur');
    });
  });

  test.each(cases)('forward matches the direct evaluation for x %j, k %d, %s padding', (xShape, k, padding) => {
    tidy(() => {
      const x = randomTensor(xShape, 1);
      const kernels = randomTensor([xShape[0], xShape[1], k, k], 2);
      expectClose(dynDwconv(x, kernels, { padding }), Tensor.fromArray(dynDwconvDirect(x, kernels, padding), xShape), 1e-12, 'y');
    });
  });

  test.each(cases)('backward matches finite differences for x %j, k %d, %s padding', (xShape, k, padding) => {
    tidy(() => {
      const inputs = [randomTensor(xShape, 3), randomTensor([xShape[0], xShape[1], k, k], 4)];
      const dy = randomTensor(xShape, 5);
      const f = ([x, kernels]: Tensor[]) => dynDwconv(x, kernels, { padding });
      const g = dynDwconvBackward(dy, inputs[0], inputs[1], null, { padding });
      const dyv = dy.toArray() as Float64Array;
      expectGradClose(g.dx!, numericalVjp(f, inputs, 0, dyv), 1e-7, 'dx');
      expectGradClose(g.dkernels!, numericalVjp(f, inputs, 1, dyv), 1e-7, 'dkernels');
    });
  });

  test.each(cases)('with the fused LeakyReLU, backward matches finite differences for x %j, k %d, %s padding', (xShape, k, padding) => {
    tidy(() => {
      const inputs = awayFromKink(xShape, k, 6);
      expect(minAbs(dynDwconv(inputs[0], inputs[1], { padding }))).toBeGreaterThanOrEqual(1e-3);
      const options = { padding, negativeSlope: 0.1 };
      const y = dynDwconv(inputs[0], inputs[1], options);
      expectClose(y, leakyRelu(dynDwconv(inputs[0], inputs[1], { padding }), 0.1), 0, 'fused y');
      const dy = randomTensor(xShape, 7);
      const f = ([x, kernels]: Tensor[]) => dynDwconv(x, kernels, options);
      const g = dynDwconvBackward(dy, inputs[0], inputs[1], y, options);
      const dyv = dy.toArray() as Float64Array;
      expectGradClose(g.dx!, numericalVjp(f, inputs, 0, dyv), 1e-7, 'dx');
      expectGradClose(g.dkernels!, numericalVjp(f, inputs, 1, dyv), 1e-7, 'dkernels');
    });
  });

  test.each(wideCases)('float32 agrees with float64 for x %j, k %d, %s padding', (xShape, k, padding) => {
    tidy(() => {
      // The same float32 values in both precisions; float32 sums of up to 441 terms stay well within 1e-5.
      const [x, kernels] = awayFromKink(xShape, k, 8).map((t) => t.cast('float32'));
      const dy = randomTensor(xShape, 9, 'float32');
      for (const negativeSlope of [undefined, 0.1]) {
        const options = { padding, negativeSlope };
        const run = (dtype: 'float32' | 'float64') => {
          const [xd, kd, dyd] = [x, kernels, dy].map((t) => t.cast(dtype));
          const y = dynDwconv(xd, kd, options);
          return { y, ...dynDwconvBackward(dyd, xd, kd, y, options) };
        };
        const single = run('float32');
        const double = run('float64');
        expectClose(single.y, double.y, 1e-5, 'y');
        expectClose(single.dx!, double.dx!, 1e-5, 'dx');
        expectClose(single.dkernels!, double.dkernels!, 1e-5, 'dkernels');
      }
    });
  });

  test('returns only the gradients asked for', () => {
    tidy(() => {
      const x = randomTensor([2, 3, 6, 5], 8, 'float32');
      const kernels = randomTensor([2, 3, 3, 3], 9, 'float32');
      const dy = randomTensor([2, 3, 6, 5], 10, 'float32');
      const all = dynDwconvBackward(dy, x, kernels, null, { padding: 'reflect' });
      const onlyKernels = dynDwconvBackward(dy, x, kernels, null, { padding: 'reflect', needInput: false });
      expect(onlyKernels.dx).toBeNull();
      expectClose(onlyKernels.dkernels!, all.dkernels!, 0, 'dkernels');
      const onlyInput = dynDwconvBackward(dy, x, kernels, null, { padding: 'reflect', needKernels: false });
      expect(onlyInput.dkernels).toBeNull();
      expectClose(onlyInput.dx!, all.dx!, 0, 'dx');
    });
  });

  test('gives the same bits with 1 thread as with several', () => {
    const threads = numThreads();
    tidy(() => {
      const x = randomTensor([3, 8, 17, 13], 11, 'float32');
      const kernels = randomTensor([3, 8, 5, 5], 12, 'float32');
      const dy = randomTensor([3, 8, 17, 13], 13, 'float32');
      const options = { padding: 'reflect' as const, negativeSlope: 0.1 };
      const run = () => {
        const y = dynDwconv(x, kernels, options);
        return { y, ...dynDwconvBackward(dy, x, kernels, y, options) };
      };
      const many = run();
      setNumThreads(1);
      try {
        const one = run();
        expect(Array.from(one.y.toArray())).toEqual(Array.from(many.y.toArray()));
        expect(Array.from(one.dx!.toArray())).toEqual(Array.from(many.dx!.toArray()));
        expect(Array.from(one.dkernels!.toArray())).toEqual(Array.from(many.dkernels!.toArray()));
      } finally {
        setNumThreads(threads);
      }
    });
  });

  test('rejects bad arguments with clear errors', () => {
    tidy(() => {
      const x = randomTensor([2, 3, 5, 6], 14);
      const kernels = randomTensor([2, 3, 3, 3], 15);
      expect(() => dynDwconv(randomTensor([3, 5, 6], 16), kernels)).toThrow('Error in dyn_dwconv: x must have rank 4, got shape [3,5,6]');
      expect(() => dynDwconv(x, randomTensor([2, 3, 9], 17))).toThrow('Error in dyn_dwconv: kernels must have rank 4, got shape [2,3,9]');
      expect(() => dynDwconv(x, randomTensor([2, 4, 3, 3], 18))).toThrow(
        'Error in dyn_dwconv: kernels [2,4,3,3] must have one kernel per sample and channel of x [2,3,5,6]',
      );
      expect(() => dynDwconv(x, randomTensor([2, 3, 4, 4], 19))).toThrow('Error in dyn_dwconv: kernels must be square with an odd size, got 4x4');
      expect(() => dynDwconv(x, randomTensor([2, 3, 11, 11], 20), { padding: 'reflect' })).toThrow(
        'Error in dyn_dwconv: reflect padding of 5 needs height and width above it, got x [2,3,5,6]',
      );
      expect(() => dynDwconv(x, kernels, { padding: 'same' as DynDwconvPadding })).toThrow("Error in dyn_dwconv: padding must be 'zero' or 'reflect', got 'same'");
      expect(() => dynDwconv(x, kernels, { negativeSlope: -0.1 })).toThrow('Error in dyn_dwconv: negativeSlope must be >= 0, got -0.1');
      expect(() => dynDwconv(x, randomTensor([2, 3, 3, 3], 21, 'float32'))).toThrow('Error in dyn_dwconv: x is float64 but kernels is float32');
      expect(() => dynDwconvBackward(randomTensor([2, 3, 5, 5], 22), x, kernels, null)).toThrow(
        'Error in dyn_dwconv_backward: dy [2,3,5,5] and x [2,3,5,6] must have the same shape',
      );
      expect(() => dynDwconvBackward(x, x, kernels, null, { negativeSlope: 0.1 })).toThrow(
        'Error in dyn_dwconv_backward: y (the forward output) is required with negativeSlope',
      );
      // The native kernels check too when called without the wrapper.
      expect(() => runOp('dyn_dwconv', [x, randomTensor([2, 3, 11, 11], 23)], { padding: 'reflect' })).toThrow(
        'Error in dyn_dwconv: reflect padding of 5 needs height and width above it, got x [2,3,5,6]',
      );
      expect(() => runOp('dyn_dwconv_backward', [x, x, kernels, null], { padding: 'zero', negative_slope: 0.1, need_input: true, need_kernels: true })).toThrow(
        'Error in dyn_dwconv_backward: y (the forward output) is required with negative_slope',
      );
    });
  });
});
