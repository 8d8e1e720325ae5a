// The inference-only ops on channel-blocked activations (to_blocked, from_blocked, conv2d_blocked,
// conv2d_block_size, dyn_dwconv_blocked, pixel_shuffle_blocked) against the NCHW ops they stand in for
// (conv2d, leaky_relu, add, dyn_dwconv, pixel_shuffle), in every block layout (NCHW, nChw8c,
// nChw16c, NHWC) and CPU implementation; float64 through the reference kernels to 1e-12; results
// bit-identical across thread counts.
import {
  add,
  conv2d,
  conv2dBlocked,
  conv2dBlockSize,
  dynDwconv,
  dynDwconvBlocked,
  fromBlocked,
  leakyRelu,
  numThreads,
  pixelShuffle,
  pixelShuffleBlocked,
  setNumThreads,
  Tensor,
  tidy,
  toBlocked,
} from '../src/ts';
import { cpuImplementations, hasOnednn, withCpuImplementation } from './cpu-impl';
import { expectClose, randomTensor } from './helpers';

/** Blocks to test for a channel count: NCHW, oneDNN's 8 and 16, and NHWC (one block of all channels). */
const layouts: Array<[string, (channels: number) => number]> = [
  ['NCHW', () => 1],
  ['nChw8c', () => 8],
  ['nChw16c', () => 16],
  ['NHWC', (c) => c],
];

// float32 convolutions over 32 * 9 terms: the reference and oneDNN's kernels add in different orders.
const F32 = 2e-6;

describe('to_blocked / from_blocked', () => {
  test.each(layouts)('%s: every channel lands at [c / b, ..., c %% b], the lanes past C are zero, and back', (_, blockOf) => {
    tidy(() => {
      const x = randomTensor([2, 5, 3, 4], 1);
      const b = blockOf(5);
      const y = toBlocked(x, b);
      expect(y.shape).toEqual([2, Math.ceil(5 / b), 3, 4, b]);
      const xv = x.toArray();
      const yv = y.toArray();
      for (let n = 0; n < 2; n++)
        for (let c = 0; c < Math.ceil(5 / b) * b; c++)
          for (let i = 0; i < 12; i++) {
            const got = yv[((n * Math.ceil(5 / b) + Math.floor(c / b)) * 12 + i) * b + (c % b)];
            expect(got).toBe(c < 5 ? xv[(n * 5 + c) * 12 + i] : 0);
          }
      expect(Array.from(fromBlocked(y, 5).toArray())).toEqual(Array.from(xv));
    });
  });

  test('shapes that do not fit are refused with the op and the fix', () => {
    tidy(() => {
      expect(() => toBlocked(randomTensor([2, 3, 4], 1), 8)).toThrow('Error in to_blocked: x must have rank 4');
      expect(() => toBlocked(randomTensor([1, 3, 4, 4], 1), 0)).toThrow('Error in to_blocked: block must be a positive integer, got 0');
      expect(() => fromBlocked(randomTensor([1, 1, 4, 4, 8], 1), 12)).toThrow('Error in from_blocked: x [1,1,4,4,8] does not hold 12 channels in blocks of 8 (expected 2 blocks)');
    });
  });
});

describe.each(cpuImplementations)('conv2d_blocked (%s)', (impl) => {
  const run = <R>(fn: () => R) => withCpuImplementation(impl, () => tidy(fn));

  test.each(layouts)('%s: conv + bias, LeakyReLU, residual, against conv2d, leaky_relu and add', (_, blockOf) => {
    run(() => {
      const x = randomTensor([1, 32, 11, 13], 1, 'float32');
      const w = randomTensor([32, 32, 3, 3], 2, 'float32', -0.1, 0.1);
      const bias = randomTensor([32], 3, 'float32');
      const residual = randomTensor([1, 32, 11, 13], 4, 'float32');
      const b = blockOf(32);
      const xb = toBlocked(x, b);
      const plain = conv2d(x, w, bias);
      expectClose(fromBlocked(conv2dBlocked(xb, w, bias, { block: b }), 32), plain, F32, 'conv + bias');
      expectClose(fromBlocked(conv2dBlocked(xb, w, bias, { block: b, negativeSlope: 0.1 }), 32), leakyRelu(plain, 0.1), F32, 'LeakyReLU');
      expectClose(fromBlocked(conv2dBlocked(xb, w, bias, { block: b, residual: toBlocked(residual, b) }), 32), add(plain, residual), F32, 'residual');
      expectClose(fromBlocked(conv2dBlocked(xb, w, null, { block: b, residual: toBlocked(residual, b) }), 32), add(conv2d(x, w), residual), F32, 'residual, no bias');
    });
  });

  test('an image in (3 channels, NCHW or blocked), 3 channels out (padded blocks), 5x5 kernels, other channel counts', () => {
    run(() => {
      for (const [, blockOf] of layouts) {
        const image = randomTensor([1, 3, 9, 10], 5, 'float32');
        const head = randomTensor([16, 3, 3, 3], 6, 'float32');
        const tail = randomTensor([3, 16, 5, 5], 7, 'float32', -0.1, 0.1);
        const inBlock = blockOf(3) === 3 ? 3 : 1;
        const features = conv2dBlocked(toBlocked(image, inBlock), head, null, { block: blockOf(16) });
        expectClose(fromBlocked(features, 16), conv2d(image, head), F32, 'head');
        const rgb = conv2dBlocked(features, tail, null, { block: blockOf(3) });
        expect(rgb.shape).toEqual([1, Math.ceil(3 / blockOf(3)), 9, 10, blockOf(3)]);
        expectClose(fromBlocked(rgb, 3), conv2d(conv2d(image, head), tail), F32, 'tail');
        const lanes = rgb.toArray();
        for (let i = 0; i < lanes.length; i++) if (i % blockOf(3) >= 3) expect(lanes[i]).toBe(0);
      }
    });
  });

  test('the residual is overwritten with the result: y is its memory', () => {
    run(() => {
      const x = toBlocked(randomTensor([1, 8, 5, 6], 8, 'float32'), 8);
      const w = randomTensor([8, 8, 3, 3], 9, 'float32');
      const residual = toBlocked(randomTensor([1, 8, 5, 6], 10, 'float32'), 8);
      const y = conv2dBlocked(x, w, null, { block: 8, residual });
      expect(Array.from(residual.toArray())).toEqual(Array.from(y.toArray()));
    });
  });

  test('arguments that do not fit are refused with the op and the argument', () => {
    run(() => {
      const x = toBlocked(randomTensor([1, 8, 5, 6], 8, 'float32'), 8);
      const w = randomTensor([16, 8, 3, 3], 9, 'float32');
      expect(() => conv2dBlocked(x, randomTensor([16, 12, 3, 3], 1, 'float32'), null, { block: 8 })).toThrow('Error in conv2d_blocked: x [1,1,5,6,8] does not hold 12 channels');
      expect(() => conv2dBlocked(x, randomTensor([16, 8, 2, 2], 1, 'float32'), null, { block: 8 })).toThrow('weight must hold square kernels of odd size');
      expect(() => conv2dBlocked(x, w, randomTensor([8], 1, 'float32'), { block: 8 })).toThrow('bias must have shape [16]');
      expect(() => conv2dBlocked(x, w, null, { block: 8, residual: x })).toThrow("residual must have the output's shape [1,2,5,6,8], got [1,1,5,6,8]");
      expect(() => conv2dBlocked(x, w, null, { block: 0 })).toThrow('block must be a positive integer');
      const out = toBlocked(randomTensor([1, 16, 5, 6], 11, 'float32'), 8);
      expect(() => conv2dBlocked(x, w, null, { block: 8, negativeSlope: 0.1, residual: out })).toThrow('negativeSlope and residual cannot both be given');
    });
  });
});

test('conv2d_block_size: NCHW for the reference kernels; with oneDNN, a layout it computes in', () => {
  tidy(() => {
    const w = randomTensor([64, 64, 3, 3], 1, 'float32');
    expect(withCpuImplementation('reference', () => conv2dBlockSize(w))).toBe(1);
    if (hasOnednn) expect([0, 1, 8, 16]).toContain(conv2dBlockSize(w));
    expect(conv2dBlockSize(randomTensor([64, 64, 3, 3], 1))).toBe(1); // float64: the reference kernels
  });
});

describe('dyn_dwconv_blocked and pixel_shuffle_blocked', () => {
  test.each(layouts)('%s: as dyn_dwconv (zero padding, LeakyReLU fused or not, k 3 and 5) and pixel_shuffle (x2, x3)', (_, blockOf) => {
    tidy(() => {
      for (const [channels, k] of [[32, 3], [5, 5]]) {
        const x = randomTensor([2, channels, 7, 9], 11, 'float32');
        const kernels = randomTensor([2, channels, k, k], 12, 'float32');
        const xb = toBlocked(x, blockOf(channels));
        expectClose(fromBlocked(dynDwconvBlocked(xb, kernels), channels), dynDwconv(x, kernels), 1e-6, 'dyn_dwconv');
        expectClose(fromBlocked(dynDwconvBlocked(xb, kernels, { negativeSlope: 0.1 }), channels), dynDwconv(x, kernels, { negativeSlope: 0.1 }), 1e-6, 'fused');
      }
      for (const r of [2, 3]) {
        const x = randomTensor([1, 16 * r * r, 4, 5], 13, 'float32');
        const y = pixelShuffleBlocked(toBlocked(x, blockOf(16 * r * r)), r, { channels: 16, block: blockOf(16) });
        expect(Array.from(fromBlocked(y, 16).toArray())).toEqual(Array.from(pixelShuffle(x, r).toArray()));
      }
      expect(() => dynDwconvBlocked(toBlocked(randomTensor([1, 4, 5, 5], 1), blockOf(4)), randomTensor([2, 4, 3, 3], 1))).toThrow(
        'Error in dyn_dwconv_blocked: kernels [2,4,3,3] must have one kernel per sample of x',
      );
      expect(() => pixelShuffleBlocked(toBlocked(randomTensor([1, 12, 2, 2], 1), blockOf(12)), 2, { channels: 8, block: 8 })).toThrow(
        'Error in pixel_shuffle_blocked: x',
      );
    });
  });
});

test('float64 (the reference kernels) agrees with the NCHW ops to rounding', () => {
  tidy(() => {
    const x = randomTensor([1, 6, 5, 7], 21);
    const w = randomTensor([4, 6, 3, 3], 22);
    const bias = randomTensor([4], 23);
    const residual = randomTensor([1, 4, 5, 7], 24);
    const kernels = randomTensor([1, 6, 3, 3], 25);
    const y = conv2dBlocked(toBlocked(x, 8), w, bias, { block: 8, residual: toBlocked(residual, 8) });
    expectClose(fromBlocked(y, 4), add(conv2d(x, w, bias), residual), 1e-12, 'conv2d_blocked');
    expectClose(fromBlocked(conv2dBlocked(toBlocked(x, 8), w, bias, { block: 8, negativeSlope: 0.1 }), 4), leakyRelu(conv2d(x, w, bias), 0.1), 1e-12, 'fused');
    expectClose(fromBlocked(dynDwconvBlocked(toBlocked(x, 6), kernels), 6), dynDwconv(x, kernels), 1e-12, 'dyn_dwconv_blocked');
  });
});

describe('thread-count independence', () => {
  const initial = numThreads();
  afterAll(() => setNumThreads(initial));

  test.each(cpuImplementations)('%s: 1, 2, 3 and 16 threads give bit-identical results', (impl) => {
    const outputs = () =>
      withCpuImplementation(impl, () =>
        tidy(() => {
          // KDSR's shapes (large enough to run in parallel), in the layout this CPU's convolutions prefer.
          const w = randomTensor([64, 64, 3, 3], 31, 'float32', -0.05, 0.05);
          const block = conv2dBlockSize(w) || 64;
          const x = toBlocked(randomTensor([1, 64, 40, 48], 32, 'float32'), block);
          const residual = toBlocked(randomTensor([1, 64, 40, 48], 33, 'float32'), block);
          const up = randomTensor([256, 64, 3, 3], 34, 'float32', -0.05, 0.05);
          const list: Tensor[] = [
            conv2dBlocked(x, w, randomTensor([64], 35, 'float32'), { block, residual }),
            conv2dBlocked(x, w, null, { block, negativeSlope: 0.1 }),
            dynDwconvBlocked(x, randomTensor([1, 64, 3, 3], 36, 'float32'), { negativeSlope: 0.1 }),
            pixelShuffleBlocked(conv2dBlocked(x, up, null, { block: block === 64 ? 256 : block }), 2, { channels: 64, block }),
          ];
          return list.map((t) => t.toArray());
        }),
      );
    setNumThreads(1);
    const one = outputs();
    for (const n of [2, 3, 16]) {
      setNumThreads(n);
      outputs().forEach((out, i) => {
        if (!out.every((value, j) => Object.is(value, one[i][j]))) throw new Error(`output ${i} differs between 1 and ${n} threads`);
      });
    }
  });
});
