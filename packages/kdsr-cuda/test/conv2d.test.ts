import { conv2d, conv2dBackward, cpuIsa, memory, runOp, setCpuIsa, supportedCpuIsas, Tensor, tidy } from '../src/ts';
import { expectClose, fixtureTensor, randomTensor } from './helpers';
import { expectGradClose, numericalVjp } from './gradcheck';
import { cpuImplementations, hasOnednn, withCpuImplementation } from './cpu-impl';

const F = 'ops.safetensors';
const GAN = 'gan.safetensors';

/** Direct evaluation of the definition: y[b,o,r,q] = bias[o] + sum w[o,i,u,v] x[b,i,s*r+u-p,s*q+v-p], zero outside. */
function conv2dDirect(x: Tensor, w: Tensor, bias: Tensor | null, stride = 1, padding = (w.shape[2] - 1) / 2): Tensor {
  const [B, Ci, H, W] = x.shape;
  const [Co, , k] = w.shape;
  const [OH, OW] = [Math.floor((H + 2 * padding - k) / stride) + 1, Math.floor((W + 2 * padding - k) / stride) + 1];
  const xv = x.toArray();
  const wv = w.toArray();
  const bv = bias?.toArray();
  const y = new Float64Array(B * Co * OH * OW);
  for (let b = 0; b < B; b++)
    for (let o = 0; o < Co; o++)
      for (let r = 0; r < OH; r++)
        for (let q = 0; q < OW; q++) {
          let s = bv ? bv[o] : 0;
          for (let i = 0; i < Ci; i++)
            for (let u = 0; u < k; u++)
              for (let v = 0; v < k; v++) {
                const rr = stride * r + u - padding;
                const qq = stride * q + v - padding;
                if (rr >= 0 && rr < H && qq >= 0 && qq < W) s += wv[((o * Ci + i) * k + u) * k + v] * xv[((b * Ci + i) * H + rr) * W + qq];
              }
          y[((b * Co + o) * OH + r) * OW + q] = s;
        }
  return Tensor.fromArray(y, [B, Co, OH, OW]);
}

// [x shape, output channels, k, stride, padding]: the discriminator's 4x4 / stride 2 / padding 1 (even
// and odd sizes: floor mode drops the last row), other strides and paddings, a 1x1 stride-2 kernel.
const stridedCases: Array<[number[], number, number, number, number]> = [
  [[2, 3, 8, 8], 4, 4, 2, 1],
  [[1, 2, 7, 9], 3, 4, 2, 1],
  [[2, 2, 7, 6], 2, 3, 2, 1],
  [[1, 3, 9, 8], 2, 3, 3, 0],
  [[1, 2, 5, 6], 2, 3, 1, 0],
  [[2, 2, 5, 5], 3, 1, 2, 0],
  [[1, 2, 6, 7], 2, 2, 1, 1],
];

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
      expectClose(conv2d(x, w, b), conv2dDirect(x, w, b), 1e-12, 'y with bias');
      expectClose(conv2d(x, w), conv2dDirect(x, w, null), 1e-12, 'y without bias');
    });
  });

  // The reference kernels' loops are compiled for each instruction set (cpu_simd.h).
  test.each(supportedCpuIsas())('reference kernels of the %s variant match the direct evaluation and the fixture gradients', (isa) => {
    const initial = cpuIsa();
    setCpuIsa(isa);
    try {
      withCpuImplementation('reference', () =>
        tidy(() => {
          for (const [xShape, cout, k] of cases) {
            const x = randomTensor(xShape, 1);
            const w = randomTensor([cout, xShape[1], k, k], 2);
            expectClose(conv2d(x, w), conv2dDirect(x, w, null), 1e-12, `y for x ${xShape}`);
          }
          const x = fixtureTensor(F, 'conv2d.x');
          const w = fixtureTensor(F, 'conv2d.weight');
          const g = conv2dBackward(fixtureTensor(F, 'conv2d.dy'), x, w);
          expectClose(g.dx!, fixtureTensor(F, 'conv2d.grad_x'), 1e-4, 'grad_x');
          expectClose(g.dweight!, fixtureTensor(F, 'conv2d.grad_weight'), 1e-4, 'grad_weight');
        }),
      );
    } finally {
      setCpuIsa(initial);
    }
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

  test.each(cpuImplementations)('matches the fixture 4x4 stride-2 padding-1 convolution of the discriminator (%s)', (impl) => {
    withCpuImplementation(impl, () =>
      tidy(() => {
        const x = fixtureTensor(GAN, 'op.conv4x4s2.x');
        const w = fixtureTensor(GAN, 'op.conv4x4s2.weight');
        const options = { stride: 2, padding: 1 };
        expectClose(conv2d(x, w, null, options), fixtureTensor(GAN, 'op.conv4x4s2.y'), 1e-5, 'y');
        const g = conv2dBackward(fixtureTensor(GAN, 'op.conv4x4s2.dy'), x, w, { ...options, needBias: false });
        expectClose(g.dx!, fixtureTensor(GAN, 'op.conv4x4s2.grad_x'), 1e-4, 'grad_x');
        expectClose(g.dweight!, fixtureTensor(GAN, 'op.conv4x4s2.grad_weight'), 1e-4, 'grad_weight');
        expect(g.dbias).toBeNull();
      }),
    );
  });

  test.each(stridedCases)('strided forward matches the direct evaluation for x %j, %d outputs, k %d, stride %d, padding %d', (xShape, cout, k, stride, padding) => {
    tidy(() => {
      const x = randomTensor(xShape, 31);
      const w = randomTensor([cout, xShape[1], k, k], 32);
      const b = randomTensor([cout], 33);
      expectClose(conv2d(x, w, b, { stride, padding }), conv2dDirect(x, w, b, stride, padding), 1e-12, 'y');
    });
  });

  test.each(stridedCases)('strided backward matches finite differences for x %j, %d outputs, k %d, stride %d, padding %d', (xShape, cout, k, stride, padding) => {
    tidy(() => {
      const inputs = [randomTensor(xShape, 34), randomTensor([cout, xShape[1], k, k], 35), randomTensor([cout], 36)];
      const f = ([x, w, b]: Tensor[]) => conv2d(x, w, b, { stride, padding });
      const dy = randomTensor([...f(inputs).shape], 37);
      const g = conv2dBackward(dy, inputs[0], inputs[1], { stride, padding });
      const dyv = dy.toArray() as Float64Array;
      expectGradClose(g.dx!, numericalVjp(f, inputs, 0, dyv), 1e-7, 'dx');
      expectGradClose(g.dweight!, numericalVjp(f, inputs, 1, dyv), 1e-7, 'dweight');
      expectGradClose(g.dbias!, numericalVjp(f, inputs, 2, dyv), 1e-7, 'dbias');
    });
  });

  (hasOnednn ? test.each(stridedCases) : test.skip.each(stridedCases))(
    'oneDNN agrees with the reference for strided x %j, %d outputs, k %d, stride %d, padding %d',
    (xShape, cout, k, stride, padding) => {
      tidy(() => {
        const x = randomTensor(xShape, 38, 'float32');
        const w = randomTensor([cout, xShape[1], k, k], 39, 'float32');
        const b = randomTensor([cout], 40, 'float32');
        const options = { stride, padding };
        const dy = randomTensor([...conv2d(x, w, b, options).shape], 41, 'float32');
        const run = (impl: 'reference' | 'onednn') =>
          withCpuImplementation(impl, () => ({ y: conv2d(x, w, b, options), ...conv2dBackward(dy, x, w, options) }));
        const ref = run('reference');
        const dnn = run('onednn');
        expectClose(dnn.y, ref.y, 1e-5, 'y');
        expectClose(dnn.dx!, ref.dx!, 1e-5, 'dx');
        expectClose(dnn.dweight!, ref.dweight!, 1e-5, 'dweight');
        expectClose(dnn.dbias!, ref.dbias!, 1e-5, 'dbias');
      });
    },
  );

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
      expect(() => conv2d(x, randomTensor([4, 3, 3, 5], 21), null, { padding: 1 })).toThrow('Error in conv2d: weight must hold square kernels, got 3x5');
      expect(() => conv2d(x, w, null, { stride: 0 })).toThrow('Error in conv2d: stride must be a positive integer, got 0');
      expect(() => conv2d(x, w, null, { padding: 3 })).toThrow('Error in conv2d: padding must be an integer in [0, 2], got 3');
      expect(() => conv2d(randomTensor([1, 3, 2, 2], 21), randomTensor([4, 3, 4, 4], 21), null, { stride: 2, padding: 0 })).toThrow(
        'Error in conv2d: x [1,3,2,2] is smaller than the 4x4 kernel with padding 0',
      );
      expect(() => conv2dBackward(randomTensor([2, 4, 5, 5], 24), x, randomTensor([4, 3, 4, 4], 20), { stride: 2, padding: 1 })).toThrow(
        'Error in conv2d_backward: dy must have shape [2,4,2,2], got [2,4,5,5]',
      );
      expect(() => conv2d(x, w, randomTensor([3], 22))).toThrow('Error in conv2d: bias must have shape [4], got [3]');
      expect(() => conv2d(x, randomTensor([4, 3, 3, 3], 23, 'float32'))).toThrow('Error in conv2d: x is float64 but weight is float32');
      expect(() => conv2dBackward(randomTensor([2, 3, 5, 5], 24), x, w)).toThrow('Error in conv2d_backward: dy must have shape [2,4,5,5], got [2,3,5,5]');
      // The native kernels check too when called without the wrapper.
      expect(() => runOp('conv2d', [x, randomTensor([4, 3, 2, 2], 25), null])).toThrow(/^Error in conv2d: weight must hold square kernels of odd size/);
      expect(() => runOp('conv2d', [x, w, null], { stride: 2, padding: 5 })).toThrow('Error in conv2d: padding must be in [0, 2] for 3x3 kernels, got 5');
      expect(() => runOp('conv2d_backward', [x, x, w], { need_input: true, need_weight: true, need_bias: true })).toThrow(
        'Error in conv2d_backward: dy must have shape [2,4,5,5], got [2,3,5,5]',
      );
    });
  });
});
