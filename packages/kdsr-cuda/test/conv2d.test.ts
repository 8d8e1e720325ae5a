import { conv2d, conv2dBackward, memory, runOp, Tensor, tidy } from '../src/ts';
import { expectClose, fixtureTensor, randomTensor } from './helpers';
import { expectGradClose, numericalVjp } from './gradcheck';
import { cpuImplementations, hasOnednn, withCpuImplementation } from './cpu-impl';

const F = 'ops.safetensors';

/** Direct evaluation of the definition: y[b,o,r,q] = bias[o] + sum w[o,i,u,v] x[b,i,r+u-p,q+v-p], zero outside. */
function conv2dDirect(x: Tensor, w: Tensor, bias: Tensor | null): Float64Array {
  const [B, Ci, H, W] = x.shape;
  const [Co, , k] = w.shape;
  const p = (k - 1) / 2;
  const xv = x.toArray();
  const wv = w.toArray();
  const bv = bias?.toArray();
  const y = new Float64Array(B * Co * H * W);
  for (let b = 0; b < B; b++)
    for (let o = 0; o < Co; o++)
      for (let r = 0; r < H; r++)
        for (let q = 0; q < W; q++) {
          let s = bv ? bv[o] : 0;
          for (let i = 0; i < Ci; i++)
            for (let u = 0; u < k; u++)
              for (let v = 0; v < k; v++) {
                const rr = r + u - p;
                const qq = q + v - p;
                if (rr >= 0 && rr < H && qq >= 0 && qq < W) s += wv[((o * Ci + i) * k + u) * k + v] * xv[((b * Ci + i) * H + rr) * W + qq];
              }
          y[((b * Co + o) * H + r) * W + q] = s;
        }
  return y;
}

// [x shape, output channels, k]: batch 1, odd and non-square sizes, k = 1, 3, 5 (5 also wider than the image).
const cases: Array<[number[], number, number]> = [
  [[1, 2, 5, 7], 3, 3],
  [[2, 3, 4, 3], 2, 1],
  [[1, 2, 6, 5], 2, 5],
  [[2, 1, 3, 4], 2, 5],
];

describe('conv2d', () => {
  test.each(cpuImplementations)('matches the fixture forward and gradients (%s)', (impl) => {
    withCpuImplementation(impl, () =>
      tidy(() => {
        const x = fixtureTensor(F, 'conv2d.x');
        const w = fixtureTensor(F, 'conv2d.weight');
        expectClose(conv2d(x, w, fixtureTensor(F, 'conv2d.bias')), fixtureTensor(F, 'conv2d.y'), 1e-5, 'y');
        const g = conv2dBackward(fixtureTensor(F, 'conv2d.dy'), x, w);
        expectClose(g.dx!, fixtureTensor(F, 'conv2d.grad_x'), 1e-4, 'grad_x');
        expectClose(g.dweight!, fixtureTensor(F, 'conv2d.grad_weight'), 1e-4, 'grad_weight');
        expectClose(g.dbias!, fixtureTensor(F, 'conv2d.grad_bias'), 1e-4, 'grad_bias');
      }),
    );
  });

  test.each(cases)('forward matches the direct evaluation for x %j, %d outputs, k %d', (xShape, cout, k) => {
    tidy(() => {
      const x = randomTensor(xShape, 1);
      const w = randomTensor([cout, xShape[1], k, k], 2);
      const b = randomTensor([cout], 3);
      const expected = Tensor.fromArray(conv2dDirect(x, w, b), [xShape[0], cout, xShape[2], xShape[3]]);
      expectClose(conv2d(x, w, b), expected, 1e-12, 'y with bias');
      expectClose(conv2d(x, w), Tensor.fromArray(conv2dDirect(x, w, null), expected.shape), 1e-12, 'y without bias');
    });
  });

  test.each(cases)('backward matches finite differences for x %j, %d outputs, k %d', (xShape, cout, k) => {
    tidy(() => {
      const inputs = [randomTensor(xShape, 4), randomTensor([cout, xShape[1], k, k], 5), randomTensor([cout], 6)];
      const dy = randomTensor([xShape[0], cout, xShape[2], xShape[3]], 7);
      const f = ([x, w, b]: Tensor[]) => conv2d(x, w, b);
      const g = conv2dBackward(dy, inputs[0], inputs[1]);
      const dyv = dy.toArray() as Float64Array;
      expectGradClose(g.dx!, numericalVjp(f, inputs, 0, dyv), 1e-7, 'dx');
      expectGradClose(g.dweight!, numericalVjp(f, inputs, 1, dyv), 1e-7, 'dweight');
      expectGradClose(g.dbias!, numericalVjp(f, inputs, 2, dyv), 1e-7, 'dbias');
    });
  });

  test.each(cpuImplementations)('returns only the gradients asked for (%s)', (impl) => {
    withCpuImplementation(impl, () =>
      tidy(() => {
        const x = randomTensor([2, 3, 4, 5], 8, 'float32');
        const w = randomTensor([4, 3, 3, 3], 9, 'float32');
        const dy = randomTensor([2, 4, 4, 5], 10, 'float32');
        const all = conv2dBackward(dy, x, w);
        const onlyBias = conv2dBackward(dy, x, w, { needInput: false, needWeight: false });
        expect(onlyBias.dx).toBeNull();
        expect(onlyBias.dweight).toBeNull();
        expectClose(onlyBias.dbias!, all.dbias!, 0, 'dbias');
        const onlyInput = conv2dBackward(dy, x, w, { needWeight: false, needBias: false });
        expect(onlyInput.dweight).toBeNull();
        expect(onlyInput.dbias).toBeNull();
        expectClose(onlyInput.dx!, all.dx!, 0, 'dx');
      }),
    );
  });

  // [x shape, output channels, k, with bias]
  const onednnCases: Array<[number[], number, number, boolean]> = [
    [[2, 5, 9, 7], 6, 3, true],
    [[1, 16, 12, 10], 8, 5, false],
    [[3, 4, 6, 6], 4, 1, true],
    [[2, 64, 16, 16], 64, 3, true],
  ];
  (hasOnednn ? test.each(onednnCases) : test.skip.each(onednnCases))(
    'oneDNN agrees with the reference for x %j, %d outputs, k %d, bias %s',
    (xShape, cout, k, withBias) => {
      tidy(() => {
        const x = randomTensor(xShape, 11, 'float32');
        const w = randomTensor([cout, xShape[1], k, k], 12, 'float32');
        const b = withBias ? randomTensor([cout], 13, 'float32') : null;
        const dy = randomTensor([xShape[0], cout, xShape[2], xShape[3]], 14, 'float32');
        const run = (impl: 'reference' | 'onednn') =>
          withCpuImplementation(impl, () => ({ y: conv2d(x, w, b), ...conv2dBackward(dy, x, w, { needBias: withBias }) }));
        const ref = run('reference');
        const dnn = run('onednn');
        expectClose(dnn.y, ref.y, 1e-5, 'y');
        expectClose(dnn.dx!, ref.dx!, 1e-5, 'dx');
        expectClose(dnn.dweight!, ref.dweight!, 1e-5, 'dweight');
        if (withBias) expectClose(dnn.dbias!, ref.dbias!, 1e-5, 'dbias');
      });
    },
  );

  test.each(cpuImplementations)('releases every temporary buffer (%s)', (impl) => {
    withCpuImplementation(impl, () => {
      const x = randomTensor([2, 32, 9, 9], 26, 'float32');
      const w = randomTensor([16, 32, 3, 3], 27, 'float32');
      const dy = randomTensor([2, 16, 9, 9], 28, 'float32');
      const before = memory().liveBuffers;
      tidy(() => {
        conv2d(x, w);
        conv2dBackward(dy, x, w);
      });
      expect(memory().liveBuffers).toBe(before);
      [x, w, dy].forEach((t) => t.dispose());
    });
  });

  test('rejects bad arguments with clear errors', () => {
    tidy(() => {
      const x = randomTensor([2, 3, 5, 5], 15);
      const w = randomTensor([4, 3, 3, 3], 16);
      expect(() => conv2d(x, randomTensor([4, 3, 3], 17))).toThrow('Error in conv2d: weight must have rank 4, got shape [4,3,3]');
      expect(() => conv2d(randomTensor([3, 5, 5], 18), w)).toThrow('Error in conv2d: x must have rank 4, got shape [3,5,5]');
      expect(() => conv2d(x, randomTensor([4, 2, 3, 3], 19))).toThrow('Error in conv2d: x has 3 channels but weight [4,2,3,3] expects 2');
      expect(() => conv2d(x, randomTensor([4, 3, 4, 4], 20))).toThrow('Error in conv2d: weight must hold square kernels of odd size, got 4x4');
      expect(() => conv2d(x, randomTensor([4, 3, 3, 5], 21))).toThrow('square kernels of odd size, got 3x5');
      expect(() => conv2d(x, w, randomTensor([3], 22))).toThrow('Error in conv2d: bias must have shape [4], got [3]');
      expect(() => conv2d(x, randomTensor([4, 3, 3, 3], 23, 'float32'))).toThrow('Error in conv2d: x is float64 but weight is float32');
      expect(() => conv2dBackward(randomTensor([2, 3, 5, 5], 24), x, w)).toThrow('Error in conv2d_backward: dy must have shape [2,4,5,5], got [2,3,5,5]');
      // The native kernels check too when called without the wrapper.
      expect(() => runOp('conv2d', [x, randomTensor([4, 3, 2, 2], 25), null])).toThrow(/^Error in conv2d: weight must hold square kernels of odd size/);
      expect(() => runOp('conv2d_backward', [x, x, w], { need_input: true, need_weight: true, need_bias: true })).toThrow(
        'Error in conv2d_backward: dy must have shape [2,4,5,5], got [2,3,5,5]',
      );
    });
  });
});
