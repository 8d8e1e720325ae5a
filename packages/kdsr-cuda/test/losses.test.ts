import { bceWithLogits, bceWithLogitsBackward, fill, kdLoss, kdLossBackward, l1Loss, l1LossBackward, Tensor, tidy } from '../src/ts';
import { expectGradClose, numericalVjp } from './gradcheck';
import { expectClose, fixtureTensor, randomArray, randomTensor } from './helpers';

const F = 'ops.safetensors';

/** KL(softmax(t/tau) || softmax(s/tau)) summed over rows, divided by the rows, straight from the definition. */
function kdReference(s: ArrayLike<number>, t: ArrayLike<number>, rows: number, tau: number): number {
  const n = s.length / rows;
  let total = 0;
  for (let b = 0; b < rows; b++) {
    const softmax = (x: ArrayLike<number>) => {
      const row = Array.from({ length: n }, (_, i) => x[b * n + i] / tau);
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const z = e.reduce((a, v) => a + v, 0);
      return e.map((v) => v / z);
    };
    const p = softmax(t);
    const q = softmax(s);
    for (let i = 0; i < n; i++) if (p[i] > 0) total += p[i] * Math.log(p[i] / q[i]);
  }
  return total / rows;
}

describe('l1_loss', () => {
  test('matches the fixture loss and gradients', () => {
    tidy(() => {
      const a = fixtureTensor(F, 'l1.a');
      const b = fixtureTensor(F, 'l1.b');
      expectClose(l1Loss(a, b), fixtureTensor(F, 'l1.loss'), 1e-5, 'loss');
      const { da, db } = l1LossBackward(fill([1], 1), a, b);
      expectClose(da, fixtureTensor(F, 'l1.grad_a'), 1e-4, 'grad_a');
      expectClose(db, fixtureTensor(F, 'l1.grad_b'), 1e-4, 'grad_b');
    });
  });

  test.each([[[1]], [[3, 7]], [[2, 3, 5, 1]]])('closed form and finite differences for %j', (shape) => {
    tidy(() => {
      const n = shape.reduce((x, y) => x * y, 1);
      // |a - b| >= 0.01 everywhere keeps the kink of |.| far from the finite-difference steps.
      const b = randomTensor(shape, 2);
      const gap = randomArray(n, 3, 0.01, 1);
      const sign = randomArray(n, 4);
      const bv = b.toArray();
      const a = Tensor.fromArray(Float64Array.from(bv, (v, i) => v + (sign[i] < 0 ? -gap[i] : gap[i])), shape);
      expect(l1Loss(a, b).toArray()[0]).toBeCloseTo(gap.reduce((x, y) => x + y, 0) / n, 14);
      const dloss = Tensor.fromArray(new Float64Array([-2.5]), [1]);
      const { da, db } = l1LossBackward(dloss, a, b);
      expectGradClose(da, numericalVjp(([p, q]) => l1Loss(p, q), [a, b], 0, new Float64Array([-2.5])), 1e-7, 'da');
      expectGradClose(db, numericalVjp(([p, q]) => l1Loss(p, q), [a, b], 1, new Float64Array([-2.5])), 1e-7, 'db');
    });
  });

  test('equal inputs give zero loss and zero gradient', () => {
    tidy(() => {
      const a = randomTensor([2, 3], 1);
      expect(l1Loss(a, a).toArray()[0]).toBe(0);
      expect(Array.from(l1LossBackward(fill([1], 1, { dtype: 'float64' }), a, a).da.toArray())).toEqual([0, 0, 0, 0, 0, 0]);
    });
  });

  test('bad arguments throw clear errors', () => {
    tidy(() => {
      const a = randomTensor([2, 3], 1);
      expect(() => l1Loss(a, randomTensor([3, 2], 2))).toThrow('Error in l1_loss: a [2,3] and b [3,2] must have the same shape');
      expect(() => l1LossBackward(randomTensor([2], 1), a, a)).toThrow('Error in l1_loss_backward: dloss must hold one value, got shape [2]');
      expect(() => l1Loss(a, randomTensor([2, 3], 2, 'float32'))).toThrow('Error in l1_loss: a is float64 but b is float32');
    });
  });
});

describe('kd_loss', () => {
  test('matches the fixture loss and gradient', () => {
    tidy(() => {
      const s = fixtureTensor(F, 'kd.student');
      const t = fixtureTensor(F, 'kd.teacher');
      expectClose(kdLoss(s, t, 0.15), fixtureTensor(F, 'kd.loss'), 1e-5, 'loss');
      expectClose(kdLossBackward(fill([1], 1), s, t, 0.15), fixtureTensor(F, 'kd.grad_student'), 1e-4, 'grad_student');
    });
  });

  test.each([
    [[1, 5], 0.15],
    [[4, 7], 1],
    [[3, 16], 0.5],
  ])('definition and finite differences for %j, tau %d', (shape, tau) => {
    tidy(() => {
      const s = randomTensor(shape, 5);
      const t = randomTensor(shape, 6);
      const loss = kdLoss(s, t, tau).toArray()[0];
      expect(Math.abs(loss - kdReference(s.toArray(), t.toArray(), shape[0], tau))).toBeLessThan(1e-12 * Math.max(1, loss));
      const dloss = Tensor.fromArray(new Float64Array([0.7]), [1]);
      expectGradClose(kdLossBackward(dloss, s, t, tau), numericalVjp(([p]) => kdLoss(p, t, tau), [s, t], 0, new Float64Array([0.7])), 1e-7, 'dstudent');
    });
  });

  test('is stable for large logits and zero when student equals teacher', () => {
    tidy(() => {
      // Logits of +-1e4 at tau 0.15 overflow exp() without the max subtraction.
      const s = Tensor.fromArray(new Float64Array([1e4, -1e4, 0, 5e3, 2e3, -3e3]), [2, 3]);
      const t = Tensor.fromArray(new Float64Array([-1e4, 1e4, 0, 5e3, 2e3, 3e3]), [2, 3]);
      const loss = kdLoss(s, t, 0.15).toArray()[0];
      expect(Number.isFinite(loss)).toBe(true);
      // Row 0: p puts all mass on feature 1, where log q = -2e4/0.15 exactly; row 1: all on feature 0 -> 0.
      expect(loss).toBeCloseTo(2e4 / 0.15 / 2, 6);
      const grad = kdLossBackward(fill([1], 1, { dtype: 'float64' }), s, t, 0.15).toArray();
      expect(Array.from(grad).every(Number.isFinite)).toBe(true);
      expect(kdLoss(t, t, 0.15).toArray()[0]).toBe(0);
      expect(Array.from(kdLossBackward(fill([1], 1, { dtype: 'float64' }), t, t, 0.15).toArray()).every((v) => v === 0)).toBe(true);
    });
  });

  test('bad arguments throw clear errors', () => {
    tidy(() => {
      const s = randomTensor([2, 4], 1);
      expect(() => kdLoss(s, randomTensor([2, 5], 2), 0.15)).toThrow('Error in kd_loss: student [2,4] and teacher [2,5] must have the same shape');
      expect(() => kdLoss(s, s, 0)).toThrow('Error in kd_loss: tau must be a positive number, got 0');
      expect(() => kdLoss(randomTensor([8], 1), randomTensor([8], 1), 1)).toThrow('Error in kd_loss: student must have rank 2, got shape [8]');
    });
  });
});

describe('bce_with_logits', () => {
  const GAN = 'gan.safetensors';

  test('matches the fixture losses and gradients for both targets, logits of +-25 and +-40 included', () => {
    tidy(() => {
      const logits = fixtureTensor(GAN, 'op.bce.logits');
      const one = fill([1], 1, { dtype: 'float32' });
      expectClose(bceWithLogits(logits, 1), fixtureTensor(GAN, 'op.bce.loss_real'), 1e-5, 'loss_real');
      expectClose(bceWithLogits(logits, 0), fixtureTensor(GAN, 'op.bce.loss_fake'), 1e-5, 'loss_fake');
      expectClose(bceWithLogitsBackward(one, logits, 1), fixtureTensor(GAN, 'op.bce.grad_real'), 1e-4, 'grad_real');
      expectClose(bceWithLogitsBackward(one, logits, 0), fixtureTensor(GAN, 'op.bce.grad_fake'), 1e-4, 'grad_fake');
    });
  });

  test.each([[[1], 1], [[3, 7], 0], [[2, 1, 4, 4], 0.3]] as Array<[number[], number]>)('closed form and finite differences for %j, target %d', (shape, target) => {
    tidy(() => {
      const x = randomTensor(shape, 21, 'float64', -4, 4);
      const xv = x.toArray();
      let sum = 0;
      for (const v of xv) sum += -target * Math.log(1 / (1 + Math.exp(-v))) - (1 - target) * Math.log(1 - 1 / (1 + Math.exp(-v)));
      expect(bceWithLogits(x, target).toArray()[0]).toBeCloseTo(sum / xv.length, 12);
      const dloss = Tensor.fromArray([0.7], [1], { dtype: 'float64' });
      const numerical = numericalVjp(([t]) => bceWithLogits(t, target), [x], 0, new Float64Array([0.7]));
      expectGradClose(bceWithLogitsBackward(dloss, x, target), numerical, 1e-7, 'dx');
    });
  });

  test('bad arguments throw clear errors', () => {
    tidy(() => {
      const x = randomTensor([2, 3], 22);
      expect(() => bceWithLogits(x, 2)).toThrow('Error in bce_with_logits: target must be a number in [0, 1], got 2');
      expect(() => bceWithLogitsBackward(randomTensor([2], 23), x, 1)).toThrow('Error in bce_with_logits_backward: dloss must hold one value, got shape [2]');
    });
  });
});
