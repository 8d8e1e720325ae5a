// Scales 2 and 3 (the fixtures are x4): output shapes, parameter shapes, and a finite-difference
// spot check of the loss gradient in float64 through the whole teacher and student; plus presets
// and PyTorch-like initialisation.
import { Tensor, tidy } from '@kdsr/cuda';
import { backward } from '../src/autograd/backward';
import { setRequiresGrad } from '../src/autograd/graph';
import { kdsrConfig, PRESETS } from '../src/models/config';
import { KdsrStudent, KdsrTeacher } from '../src/models/kdsr';
import { Conv2d, Linear } from '../src/nn/layers';
import { Initializer } from '../src/nn/init';
import { Module } from '../src/nn/module';
import { kdLoss, l1Loss } from '../src/train/losses';
import { gradError, numericalGradient } from './gradcheck';
import { randomArray } from './helpers';

const f64 = (shape: number[], seed: number, lo = 0, hi = 1) => Tensor.fromArray(randomArray(shape.reduce((a, b) => a * b, 1), seed, lo, hi), shape, { dtype: 'float64' });

// At PyTorch's initialisation the encoder's gradients are ~1e-8 (its signal reaches the loss only
// through the predicted kernels), too small to check by differences. As for the fixtures, the
// weights are redrawn from U(±sqrt(3/fan_in)) and biases from U(±0.1), which keeps every branch
// visible. h = 1e-5 balances rounding (~1e-16 |L| / h) and truncation (O(h²)); a right gradient
// agrees to ~1e-7, a wrong one is off by O(1).
const H = 1e-5;
const TOLERANCE = 1e-5;

function strengthen(model: Module, seed: number): void {
  model.trainableParameters().forEach((p, i) => {
    const n = p.value.size;
    const bound = p.shape.length > 1 ? Math.sqrt(3 / (n / p.shape[0])) : 0.1;
    p.write(randomArray(n, seed + i, -bound, bound));
  });
}

/** A few entries spread over a tensor of n elements. */
const sample = (n: number) => [...new Set([0, Math.floor(n / 3), Math.floor(n / 2), Math.floor((2 * n) / 3), n - 1])];

describe.each([2, 3])('scale x%i', (scale) => {
  const config = kdsrConfig('custom', { nFeats: 4, nBlocks: 1, nResblocks: 1, scale });

  test('teacher and student: shapes of outputs and of the scale-dependent parameters', () => {
    const teacher = new KdsrTeacher(config, { seed: 3 });
    const student = new KdsrStudent(config, { seed: 4 });
    tidy(() => {
      const lr = f64([2, 3, 5, 7], 1).cast('float32');
      const hr = f64([2, 3, 5 * scale, 7 * scale], 2).cast('float32');
      const t = teacher.forward(lr, hr);
      const s = student.forward(lr);
      for (const out of [t, s]) {
        expect(out.sr.shape).toEqual([2, 3, 5 * scale, 7 * scale]);
        expect(out.idr.shape).toEqual([2, 4]);
        expect(out.idrKd.shape).toEqual([2, 16]);
      }
    });
    const shapes = new Map(teacher.namedParameters().map(([k, p]) => [k, p.shape]));
    expect(shapes.get('E.E.0.weight')).toEqual([4, 3 + 3 * scale * scale, 3, 3]);
    expect(shapes.get('G.tail.0.0.weight')).toEqual([scale === 3 ? 36 : 16, 4, 3, 3]);
    expect(shapes.has('G.tail.0.2.weight')).toBe(false);
    expect(new Map(student.namedParameters()).get('E_st.E.0.weight')!.shape).toEqual([4, 3, 3, 3]);
    expect(() => teacher.forward(f64([1, 3, 4, 4], 5), f64([1, 3, 4 * scale + 1, 4 * scale], 6))).toThrow(`hr must be (1, 3, ${4 * scale}, ${4 * scale})`);
    teacher.dispose();
    student.dispose();
  });

  test('teacher L1 loss: gradients of parameters and both inputs agree with finite differences (float64)', () => {
    const teacher = new KdsrTeacher(config, { seed: 5, dtype: 'float64' });
    strengthen(teacher, 100);
    const lr = f64([1, 3, 4, 5], 7);
    const hr = f64([1, 3, 4 * scale, 5 * scale], 8);
    const params = teacher.namedParameters().filter(([, p]) => p.trainable);
    const checked = ['G.head.0.weight', 'G.body.0.body.0.da_conv1.kernel.0.weight', 'G.body.0.body.0.da_conv1.kernel.2.weight', 'G.tail.0.0.bias', 'E.E.0.weight', 'E.E.2.body.2.weight', 'E.mlp.0.weight', 'E.compress.0.bias'];
    tidy(() => {
      const [x, y] = [lr, hr].map((t) => setRequiresGrad(t.reshape(t.shape)));
      const [dlr, dhr] = backward(l1Loss(teacher.forward(x, y).sr, y), { inputs: [x, y] });
      const loss = ([a, b]: Tensor[]) => l1Loss(teacher.forward(a, b).sr, b);
      expect(gradError(dlr!.toArray(), numericalGradient(loss, [lr, hr], 0, H, sample(lr.size)))).toBeLessThan(TOLERANCE);
      expect(gradError(dhr!.toArray(), numericalGradient(loss, [lr, hr], 1, H, sample(hr.size)))).toBeLessThan(TOLERANCE);
      for (const key of checked) {
        const p = params.find(([k]) => k === key)![1];
        const analytic = p.grad!.toArray();
        const original = p.value.toArray() as Float64Array;
        const numerical = numericalGradient(
          ([w]) => {
            p.write(w.toArray());
            return l1Loss(teacher.forward(lr, hr).sr, hr);
          },
          [p.value],
          0,
          1e-6,
          sample(p.value.size),
        );
        p.write(original);
        expect({ key, ok: gradError(analytic, numerical) < TOLERANCE }).toEqual({ key, ok: true });
      }
    });
    teacher.dispose();
  });

  test('student KD loss: encoder gradients agree with finite differences (float64)', () => {
    const student = new KdsrStudent(config, { seed: 6, dtype: 'float64' });
    strengthen(student, 200);
    const lr = f64([2, 3, 4, 5], 9);
    const teacherKd = f64([2, 16], 10, -1, 1);
    tidy(() => {
      const x = setRequiresGrad(lr.reshape(lr.shape));
      const [dlr] = backward(kdLoss(student.forward(x).idrKd, teacherKd), { inputs: [x] });
      const numerical = numericalGradient(([a]) => kdLoss(student.forward(a).idrKd, teacherKd), [lr], 0, H, sample(lr.size));
      expect(gradError(dlr!.toArray(), numerical)).toBeLessThan(TOLERANCE);
    });
    student.dispose();
  });
});

describe('presets and initialisation', () => {
  test('the presets have the sizes of the paper', () => {
    expect(PRESETS.M).toEqual({ nFeats: 64, nBlocks: 53, nResblocks: 9 });
    expect(PRESETS.L).toEqual({ nFeats: 128, nBlocks: 28, nResblocks: 5 });
    expect(PRESETS.GAN).toEqual({ nFeats: 128, nBlocks: 42, nResblocks: 6 });
    expect(kdsrConfig('M', { scale: 4 })).toMatchObject({ nFeats: 64, nBlocks: 53, nResblocks: 9, scale: 4 });
    expect(() => kdsrConfig('custom', { scale: 4, nFeats: 8 })).toThrow('nBlocks must be');
    expect(() => kdsrConfig('M', { scale: 5 })).toThrow('scale must be 2, 3, 4 or 8');
  });

  test('the M student has the expected keys: 4 + 2 + 4·53 + 2 + 4 + 2 generator tensors at x4', () => {
    const student = new KdsrStudent(kdsrConfig('custom', { ...PRESETS.M, nFeats: 2, scale: 4 }));
    const keys = student.namedParameters().map(([k]) => k);
    expect(keys.filter((k) => k.startsWith('G.')).length).toBe(4 + 2 + 4 * 53 + 2 + 4 + 2);
    expect(keys.filter((k) => k.startsWith('E_st.')).length).toBe(2 + 4 * 9 + 6 + 4 + 2);
    expect(keys).toContain('G.body.0.body.52.da_conv1.kernel.2.weight');
    expect(keys).toContain('E_st.E.15.weight'); // the last conv is E.{k+4} with k = 2 + 9
    expect(keys).not.toContain('E_st.E.16.weight');
    student.dispose();
  });

  test('conv and linear weights are U(±1/sqrt(fan_in)) like PyTorch, biases too; same seed, same weights', () => {
    const conv = new Conv2d(64, 32, 3, new Initializer({ seed: 11 }));
    const bound = 1 / Math.sqrt(64 * 9);
    const w = conv.weight.value.toArray();
    const b = conv.bias!.value.toArray();
    expect(Math.max(...Array.from(w, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(w, Math.abs))).toBeGreaterThan(0.99 * bound);
    const variance = Array.from(w).reduce((s, v) => s + v * v, 0) / w.length;
    expect(Math.abs(variance / (bound * bound / 3) - 1)).toBeLessThan(0.03); // uniform: E[x²] = b²/3
    expect(Math.max(...Array.from(b, Math.abs))).toBeLessThanOrEqual(bound);
    const again = new Conv2d(64, 32, 3, new Initializer({ seed: 11 }));
    expect(Buffer.from(again.weight.value.toArray().buffer).equals(Buffer.from(w.buffer))).toBe(true);
    const other = new Conv2d(64, 32, 3, new Initializer({ seed: 12 }));
    expect(Buffer.from(other.weight.value.toArray().buffer).equals(Buffer.from(w.buffer))).toBe(false);
    const linear = new Linear(256, 64, new Initializer({ seed: 13 }));
    expect(Math.max(...Array.from(linear.weight.value.toArray(), Math.abs))).toBeLessThanOrEqual(1 / 16);
    for (const m of [conv, again, other, linear]) m.dispose();
  });
});
