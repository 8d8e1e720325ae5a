import { adamUpdate, fill, Tensor, tidy } from '../src/ts';
import { randomArray, relativeError } from './helpers';

interface Hyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
}

/** The textbook Adam / AdamW recurrence for one element sequence, in float64. */
function adamReference(p0: number, grads: number[], h: Hyper): number {
  let p = p0;
  let m = 0;
  let v = 0;
  grads.forEach((g, index) => {
    const t = index + 1;
    if (h.decoupled) p = p * (1 - h.lr * h.weightDecay);
    else g = g + h.weightDecay * p;
    m = h.beta1 * m + (1 - h.beta1) * g;
    v = h.beta2 * v + (1 - h.beta2) * g * g;
    const mHat = m / (1 - h.beta1 ** t);
    const vHat = v / (1 - h.beta2 ** t);
    p = p - (h.lr * mHat) / (Math.sqrt(vHat) + h.eps);
  });
  return p;
}

const shapes = [[3], [2, 3], [1, 1, 1, 1], [4, 5]];
const steps = 5;

describe('adam_update', () => {
  test.each([
    ['Adam', { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false }],
    ['Adam with L2', { lr: 3e-3, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.05, decoupled: false }],
    ['AdamW', { lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, decoupled: true }],
  ] as Array<[string, Hyper]>)('%s: several steps on several parameters match the float64 recurrence', (_name, h) => {
    tidy(() => {
      const p0 = shapes.map((s, k) => randomArray(s.reduce((a, b) => a * b, 1), 100 + k));
      const gradsPerStep = Array.from({ length: steps }, (_, t) => shapes.map((s, k) => randomArray(s.reduce((a, b) => a * b, 1), 1000 * t + k)));
      const params = shapes.map((s, k) => Tensor.fromArray(p0[k], s));
      const expAvg = shapes.map((s) => fill(s, 0, { dtype: 'float64' }));
      const expAvgSq = shapes.map((s) => fill(s, 0, { dtype: 'float64' }));
      for (let t = 0; t < steps; t++) {
        tidy(() => {
          const grads = shapes.map((s, k) => Tensor.fromArray(gradsPerStep[t][k], s));
          adamUpdate(params, grads, expAvg, expAvgSq, { ...h, step: t + 1 });
          // The gradients are inputs only.
          grads.forEach((g, k) => expect(Array.from(g.toArray())).toEqual(Array.from(gradsPerStep[t][k])));
        });
      }
      params.forEach((p, k) => {
        const expected = Float64Array.from(p0[k], (v, i) => adamReference(v, gradsPerStep.map((g) => g[k][i]), h));
        expect(relativeError(p.toArray(), expected)).toBeLessThan(1e-13);
      });
    });
  });

  test('a constant gradient moves each weight by lr * g / (|g| + eps) per step (bias correction)', () => {
    tidy(() => {
      // With g fixed: m_t = (1 - b1^t) g and v_t = (1 - b2^t) g^2, so the corrected step is exactly lr g / (|g| + eps).
      const g = new Float64Array([0.5, -2, 1e-3]);
      const p = Tensor.fromArray(new Float64Array([1, 1, 1]), [3]);
      const m = fill([3], 0, { dtype: 'float64' });
      const v = fill([3], 0, { dtype: 'float64' });
      const grad = Tensor.fromArray(g, [3]);
      for (let t = 1; t <= 10; t++) adamUpdate([p], [grad], [m], [v], { lr: 0.01, eps: 1e-8, step: t });
      const expected = Array.from(g, (gi) => 1 - (10 * 0.01 * gi) / (Math.abs(gi) + 1e-8));
      expect(relativeError(p.toArray(), expected)).toBeLessThan(1e-13);
    });
  });

  test('float32 follows the float64 recurrence to float32 precision', () => {
    tidy(() => {
      const h: Hyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false };
      const p0 = randomArray(50, 5);
      const grads = Array.from({ length: steps }, (_, t) => randomArray(50, 50 + t));
      const p = Tensor.fromArray(Float32Array.from(p0), [5, 10]);
      const m = fill([5, 10], 0);
      const v = fill([5, 10], 0);
      for (let t = 0; t < steps; t++) adamUpdate([p], [Tensor.fromArray(Float32Array.from(grads[t]), [5, 10])], [m], [v], { ...h, step: t + 1 });
      const p32 = Float64Array.from(Float32Array.from(p0));
      const expected = Float64Array.from(p32, (v0, i) => adamReference(v0, grads.map((g) => Math.fround(g[i])), h));
      // Each weight moves by about lr per step; errors are float32 roundings of the weight (~1e-7 relative).
      expect(relativeError(p.toArray(), expected)).toBeLessThan(1e-6);
    });
  });

  test('empty parameters are skipped (they hold no memory, so they share none)', () => {
    tidy(() => {
      const empty = () => fill([0, 3], 0);
      const p = fill([2], 1);
      adamUpdate([empty(), p, empty()], [empty(), fill([2], 1), empty()], [empty(), fill([2], 0), empty()], [empty(), fill([2], 0), empty()], { lr: 0.1, step: 1 });
      // One step with g = 1 moves by lr * g / (|g| + eps).
      expect(relativeError(p.toArray(), [1 - 0.1 / (1 + 1e-8), 1 - 0.1 / (1 + 1e-8)])).toBeLessThan(1e-6);
    });
  });

  test('bad arguments throw clear errors', () => {
    tidy(() => {
      const p = fill([2, 3], 1, { dtype: 'float64' });
      const g = fill([2, 3], 1, { dtype: 'float64' });
      const m = fill([2, 3], 0, { dtype: 'float64' });
      const v = fill([2, 3], 0, { dtype: 'float64' });
      expect(() => adamUpdate([p], [g], [m], [], { lr: 1, step: 1 })).toThrow('Error in adam_update: params, grads, expAvg and expAvgSq must have the same length, got 1, 1, 1, 0');
      expect(() => adamUpdate([p], [fill([3, 2], 1, { dtype: 'float64' })], [m], [v], { lr: 1, step: 1 })).toThrow('Error in adam_update: grads[0] [3,2] and params[0] [2,3] must have the same shape');
      expect(() => adamUpdate([p], [g], [m], [m], { lr: 1, step: 1 })).toThrow('Error in adam_update: tensor 0 of params / expAvg / expAvgSq appears twice');
      expect(() => adamUpdate([p], [g], [m], [v], { lr: 1, step: 0 })).toThrow('Error in adam_update: step must be an integer >= 1, got 0');
      expect(() => adamUpdate([p], [g], [m], [v], { lr: 1, beta1: 1, step: 1 })).toThrow('Error in adam_update: beta1 must be in [0, 1), got 1');
      expect(() => adamUpdate([p], [g], [m], [fill([2, 3], 0)], { lr: 1, step: 1 })).toThrow('Error in adam_update: params[0] is float64 but expAvgSq[0] is float32');
      // The native kernel also refuses tensors that share memory (a reshaped view of another).
      expect(() => adamUpdate([p], [g], [m], [m.reshape([2, 3])], { lr: 1, step: 1 })).toThrow('Error in adam_update: exp_avg_sq 0 shares memory with another updated tensor');
    });
  });
});
