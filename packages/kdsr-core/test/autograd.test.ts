// The autograd engine on its own: gradients of composite computations against finite differences,
// fan-in, unused inputs, noGrad, parameter accumulation, error messages, and memory.
import * as cuda from '@kdsr/cuda';
import { memory, Tensor, tidy } from '@kdsr/cuda';
import { backward } from '../src/autograd/backward';
import * as F from '../src/autograd/functional';
import { gradNode, noGrad, setRequiresGrad } from '../src/autograd/graph';
import { gradRules } from '../src/autograd/grads';
import { Parameter } from '../src/nn/parameter';
import { gradError, numericalGradient } from './gradcheck';
import { randomArray } from './helpers';

const f64 = (shape: number[], seed: number, lo = -1, hi = 1) =>
  Tensor.fromArray(randomArray(shape.reduce((a, b) => a * b, 1), seed, lo, hi), shape, { dtype: 'float64' });

/** Values in ±[0.05, 1] so that no LeakyReLU input sits near its kink. */
function awayFromZero(shape: number[], seed: number): Tensor {
  const v = randomArray(shape.reduce((a, b) => a * b, 1), seed, 0.05, 1);
  const s = randomArray(v.length, seed + 1);
  return Tensor.fromArray(v.map((x, i) => (s[i] < 0 ? -x : x)), shape, { dtype: 'float64' });
}

function expectGradient(f: (xs: Tensor[]) => Tensor, inputs: Tensor[], tolerance = 1e-6) {
  tidy(() => {
    const leaves = inputs.map((t) => setRequiresGrad(t.reshape(t.shape)));
    const grads = backward(f(leaves), { inputs: leaves });
    inputs.forEach((_, k) => {
      const numerical = numericalGradient(f, inputs, k);
      expect({ input: k, error: gradError(grads[k]!.toArray(), numerical) <= tolerance }).toEqual({ input: k, error: true });
    });
  });
}

describe('autograd engine', () => {
  test('elementwise, LeakyReLU, pixel (un)shuffle, channels and L1: gradients match finite differences', () => {
    const a = awayFromZero([2, 4, 3, 4], 1);
    const b = f64([2, 4, 3, 4], 2);
    const target = f64([2, 1, 6, 8], 3, 5, 6); // far from any output: |out - target| has no kink nearby
    expectGradient(
      ([x, y]) => {
        const h = F.leakyRelu(F.add(F.mul(x, y), F.scale(x, 0.5)), 0.1);
        const cat = F.concatChannels(F.sliceChannels(h, 0, 2), F.sub(F.sliceChannels(h, 2, 2), F.sliceChannels(F.axpy(y, x, -0.3), 1, 2)));
        const up = F.pixelShuffle(F.pixelUnshuffle(F.pixelShuffle(F.reshape(F.reshape(cat, [2, 16, 3, 1]), [2, 4, 3, 4]), 2), 2), 2);
        return F.l1Loss(up, target);
      },
      [a, b],
    );
  });

  test('pooling, reductions, softmax, log-softmax, clamp and the KD loss: gradients match finite differences', () => {
    const x = f64([3, 5, 4, 2], 4);
    const teacher = f64([3, 5], 5);
    expectGradient(
      ([v]) => {
        const pooled = F.globalAvgPool(v); // (3, 5)
        const kd = F.kdLoss(F.scale(pooled, 3), teacher, 0.15);
        const sm = F.reduceSum(F.mul(F.softmax(pooled), F.logSoftmax(F.scale(pooled, 2))));
        const means = F.reduceMean(F.reduceMax(F.clamp(v, -0.7, 0.7), 3), 1); // (3, 4)
        return F.add(F.add(kd, sm), F.reduceSum(F.mul(means, means)));
      },
      [x],
    );
  });

  test('dynamic depthwise conv (fused LeakyReLU) and channel affine: gradients match finite differences', () => {
    const x = f64([2, 3, 5, 4], 6);
    const k = f64([2, 3, 3, 3], 7);
    const sc = f64([3], 8);
    const sh = f64([3], 9);
    const target = f64([2, 3, 5, 4], 10, 5, 6);
    expectGradient(([v, kernels, a, b]) => F.l1Loss(F.channelAffine(F.dynDwconv(v, kernels, { negativeSlope: 0.1 }), a, b), target), [x, k, sc, sh]);
  });

  test('separable resize (up in height, down in width): the gradient matches finite differences; the matrices get none', () => {
    const x = f64([2, 3, 5, 6], 11);
    const mh = f64([8, 5], 12); // dense: every output row reads every input row
    const mw = Tensor.fromArray([0.25, 0.5, 0.25, 0, 0, 0, 0, 0, 0.25, 0.5, 0.25, 0], [2, 6], { dtype: 'float64' }); // banded
    const r = f64([2, 3, 8, 2], 13);
    const f = ([v]: Tensor[]) => F.reduceSum(F.mul(F.resizeSeparable(v, mh, mw), r));
    expectGradient(f, [x]);
    tidy(() => {
      const [xs, hs, ws] = [x, mh, mw].map((t) => setRequiresGrad(t.reshape(t.shape)));
      const [dx, dmh, dmw] = backward(F.reduceSum(F.mul(F.resizeSeparable(xs, hs, ws), r)), { inputs: [xs, hs, ws] });
      expect(dx!.shape).toEqual([2, 3, 5, 6]);
      expect([dmh, dmw]).toEqual([null, null]);
    });
  });

  test('the GAN ops (strided conv, spectral norm, up-sampling, max-pool, ReLU, BCE): gradients match finite differences', () => {
    const x = f64([2, 2, 8, 8], 40);
    const w = f64([3, 2, 4, 4], 41);
    const u = f64([3], 42);
    const v = f64([32], 43);
    expectGradient(
      ([input, weightOrig]) => {
        // Eval mode: u and v are inputs, not functions of W, so finite differences see exactly the rule's constant-u, v gradient.
        const { weight } = F.spectralNorm(weightOrig, u, v, false);
        const h = F.leakyRelu(F.conv2d(input, weight, null, { stride: 2, padding: 1 }), 0.2); // (2,3,4,4)
        const up = F.relu(F.upsampleBilinear2x(h)); // (2,3,8,8)
        return F.add(F.bceWithLogits(F.maxPool2x2(up), 1), F.bceWithLogits(h, 0));
      },
      [x, w],
    );
  });

  test('the rule table covers exactly the differentiable ops of op-table.json (plus reshape)', () => {
    const table = cuda.opTable();
    const differentiable = Object.keys(table).filter((op) => table[op].grad !== null);
    expect(Object.keys(gradRules).sort()).toEqual([...differentiable, 'reshape'].sort());
  });

  test('a tensor used twice gets the sum of both gradients; an unused input gets none', () => {
    tidy(() => {
      const x = setRequiresGrad(Tensor.fromArray([1, -2, 3], [3], { dtype: 'float64' }));
      const unused = setRequiresGrad(Tensor.fromArray([5], [1], { dtype: 'float64' }));
      const y = F.reduceSum(F.add(F.mul(x, x), x)); // dy/dx = 2x + 1
      const [dx, du] = backward(y, { inputs: [x, unused] });
      expect(Array.from(dx!.toArray())).toEqual([3, -3, 7]);
      expect(du).toBeNull();
    });
  });

  test('intermediate tensors can be asked for; a non-scalar root needs an explicit gradient', () => {
    tidy(() => {
      const x = setRequiresGrad(Tensor.fromArray([1, 2], [2], { dtype: 'float64' }));
      const h = F.scale(x, 3);
      const y = F.mul(h, h);
      expect(() => backward(y)).toThrow('pass options.grad for a non-scalar root');
      const [dh, dx] = backward(y, { grad: Tensor.fromArray([1, 10], [2], { dtype: 'float64' }), inputs: [h, x] });
      expect(Array.from(dh!.toArray())).toEqual([6, 120]); // 2h * g
      expect(Array.from(dx!.toArray())).toEqual([18, 360]); // 3 * 2h * g
    });
  });

  test('noGrad records nothing', () => {
    tidy(() => {
      const x = setRequiresGrad(Tensor.fromArray([1, 2], [2]));
      const y = noGrad(() => F.scale(x, 2));
      expect(gradNode(y)).toBeUndefined();
      expect(gradNode(F.scale(x, 2))).toBeDefined();
    });
  });

  test('parameter gradients accumulate across backward calls until zeroGrad', () => {
    const p = new Parameter(Tensor.fromArray([1, 2, 3], [3], { dtype: 'float64' }));
    const frozen = new Parameter(Tensor.fromArray([4, 5, 6], [3], { dtype: 'float64' }), { trainable: false });
    for (let i = 0; i < 2; i++) tidy(() => backward(F.reduceSum(F.mul(F.mul(p.value, p.value), frozen.value))));
    expect(Array.from(p.grad!.toArray())).toEqual([16, 40, 72]); // 2 * 2 p * frozen
    expect(frozen.grad).toBeNull();
    p.zeroGrad();
    expect(p.grad).toBeNull();
    p.dispose();
    frozen.dispose();
  });

  test('a rule returning the wrong number or shape of gradients is reported with the op and input name', () => {
    const rules = gradRules as Record<string, (typeof gradRules)[string]>;
    const original = rules.mul;
    try {
      tidy(() => {
        const a = setRequiresGrad(Tensor.fromArray([1, 2], [2]));
        rules.mul = (dy) => [dy];
        expect(() => backward(F.reduceSum(F.mul(a, a)))).toThrow("backward of 'mul': the rule returned 1 gradients for 2 inputs");
        rules.mul = (dy) => [dy, cuda.fill([3], 1)];
        expect(() => backward(F.reduceSum(F.mul(a, a)))).toThrow("backward of 'mul': gradient of input 'b' has shape [3], expected [2]");
      });
    } finally {
      rules.mul = original;
    }
  });

  test('no live memory grows across training-like steps', () => {
    const p = new Parameter(Tensor.fromArray(randomArray(48, 9), [1, 3, 4, 4]));
    const target = Tensor.fromArray(randomArray(48, 10, 5, 6), [1, 3, 4, 4]);
    const step = () =>
      tidy(() => {
        const h = F.leakyRelu(F.concatChannels(p.value, F.scale(p.value, 2)), 0.1);
        backward(F.l1Loss(F.sliceChannels(h, 1, 3), target));
        p.zeroGrad();
      });
    step();
    const before = memory('cpu');
    for (let i = 0; i < 5; i++) step();
    const after = memory('cpu');
    expect(after.liveBuffers).toBe(before.liveBuffers);
    expect(after.liveBytes).toBe(before.liveBytes);
    p.dispose();
    target.dispose();
  });
});
