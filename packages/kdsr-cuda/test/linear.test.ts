import { linear, linearBackward, runOp, Tensor, tidy } from '../src/ts';
import { expectClose, fixtureTensor, randomTensor } from './helpers';
import { expectGradClose, numericalVjp } from './gradcheck';
import { cpuImplementations, hasOnednn, withCpuImplementation } from './cpu-impl';

const F = 'ops.safetensors';

/** y[n,o] = bias[o] + sum_i x[n,i] w[o,i], evaluated directly. */
function linearDirect(x: Tensor, w: Tensor, bias: Tensor | null): Float64Array {
  const [N, I] = x.shape;
  const O = w.shape[0];
  const xv = x.toArray();
  const wv = w.toArray();
  const bv = bias?.toArray();
  const y = new Float64Array(N * O);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      let s = bv ? bv[o] : 0;
      for (let i = 0; i < I; i++) s += xv[n * I + i] * wv[o * I + i];
      y[n * O + o] = s;
    }
  return y;
}

// [N, in, out]
const cases: Array<[number, number, number]> = [
  [1, 1, 1],
  [1, 5, 3],
  [3, 7, 5],
  [4, 2, 9],
];

describe('linear', () => {
  test.each(cpuImplementations)('matches the fixtures without and with bias (%s)', (impl) => {
    withCpuImplementation(impl, () =>
      tidy(() => {
        const x = fixtureTensor(F, 'linear.x');
        const w = fixtureTensor(F, 'linear.weight');
        expectClose(linear(x, w), fixtureTensor(F, 'linear.y'), 1e-5, 'linear.y');
        const g = linearBackward(fixtureTensor(F, 'linear.dy'), x, w, { needBias: false });
        expectClose(g.dx!, fixtureTensor(F, 'linear.grad_x'), 1e-4, 'linear.grad_x');
        expectClose(g.dweight!, fixtureTensor(F, 'linear.grad_weight'), 1e-4, 'linear.grad_weight');
        expect(g.dbias).toBeNull();

        const xb = fixtureTensor(F, 'linear_bias.x');
        const wb = fixtureTensor(F, 'linear_bias.weight');
        expectClose(linear(xb, wb, fixtureTensor(F, 'linear_bias.bias')), fixtureTensor(F, 'linear_bias.y'), 1e-5, 'linear_bias.y');
        const gb = linearBackward(fixtureTensor(F, 'linear_bias.dy'), xb, wb);
        expectClose(gb.dx!, fixtureTensor(F, 'linear_bias.grad_x'), 1e-4, 'linear_bias.grad_x');
        expectClose(gb.dweight!, fixtureTensor(F, 'linear_bias.grad_weight'), 1e-4, 'linear_bias.grad_weight');
        expectClose(gb.dbias!, fixtureTensor(F, 'linear_bias.grad_bias'), 1e-4, 'linear_bias.grad_bias');
      }),
    );
  });

  test.each(cases)('forward matches the direct evaluation for N %d, %d -> %d', (n, i, o) => {
    tidy(() => {
      const x = randomTensor([n, i], 1);
      const w = randomTensor([o, i], 2);
      const b = randomTensor([o], 3);
      expectClose(linear(x, w, b), Tensor.fromArray(linearDirect(x, w, b), [n, o]), 1e-12, 'y with bias');
      expectClose(linear(x, w), Tensor.fromArray(linearDirect(x, w, null), [n, o]), 1e-12, 'y without bias');
    });
  });

  test.each(cases)('backward matches finite differences for N %d, %d -> %d', (n, i, o) => {
    tidy(() => {
      const inputs = [randomTensor([n, i], 4), randomTensor([o, i], 5), randomTensor([o], 6)];
      const dy = randomTensor([n, o], 7);
      const f = ([x, w, b]: Tensor[]) => linear(x, w, b);
      const g = linearBackward(dy, inputs[0], inputs[1]);
      const dyv = dy.toArray() as Float64Array;
      expectGradClose(g.dx!, numericalVjp(f, inputs, 0, dyv), 1e-7, 'dx');
      expectGradClose(g.dweight!, numericalVjp(f, inputs, 1, dyv), 1e-7, 'dweight');
      expectGradClose(g.dbias!, numericalVjp(f, inputs, 2, dyv), 1e-7, 'dbias');
    });
  });

  // [N, in, out, with bias]; 16 x 256 -> 256 is KDSR-M's encoder MLP.
  const onednnCases: Array<[number, number, number, boolean]> = [
    [3, 7, 5, true],
    [1, 64, 32, false],
    [16, 256, 256, true],
    [5, 33, 1, true],
  ];
  (hasOnednn ? test.each(onednnCases) : test.skip.each(onednnCases))('oneDNN agrees with the reference for N %d, %d -> %d, bias %s', (n, i, o, withBias) => {
    tidy(() => {
      const x = randomTensor([n, i], 8, 'float32');
      const w = randomTensor([o, i], 9, 'float32');
      const b = withBias ? randomTensor([o], 10, 'float32') : null;
      const dy = randomTensor([n, o], 11, 'float32');
      const run = (impl: 'reference' | 'onednn') => withCpuImplementation(impl, () => ({ y: linear(x, w, b), ...linearBackward(dy, x, w) }));
      const ref = run('reference');
      const dnn = run('onednn');
      expectClose(dnn.y, ref.y, 1e-5, 'y');
      expectClose(dnn.dx!, ref.dx!, 1e-5, 'dx');
      expectClose(dnn.dweight!, ref.dweight!, 1e-5, 'dweight');
      expectClose(dnn.dbias!, ref.dbias!, 1e-5, 'dbias');
    });
  });

  test('rejects bad arguments with clear errors', () => {
    tidy(() => {
      const x = randomTensor([3, 6], 12);
      const w = randomTensor([4, 6], 13);
      expect(() => linear(randomTensor([3, 6, 1], 14), w)).toThrow('Error in linear: x must have rank 2, got shape [3,6,1]');
      expect(() => linear(x, randomTensor([24], 15))).toThrow('Error in linear: weight must have rank 2, got shape [24]');
      expect(() => linear(x, randomTensor([4, 5], 16))).toThrow('Error in linear: x has 6 features but weight [4,5] expects 5');
      expect(() => linear(x, w, randomTensor([6], 17))).toThrow('Error in linear: bias must have shape [4], got [6]');
      expect(() => linear(x, randomTensor([4, 6], 18, 'float32'))).toThrow('Error in linear: x is float64 but weight is float32');
      expect(() => linearBackward(randomTensor([3, 6], 19), x, w)).toThrow('Error in linear_backward: dy must have shape [3,4], got [3,6]');
      expect(() => runOp('linear', [x, randomTensor([4, 5], 20), null])).toThrow('Error in linear: x has 6 features but weight [4,5] expects 5');
    });
  });
});
