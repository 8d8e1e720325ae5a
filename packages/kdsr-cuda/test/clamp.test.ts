import { clamp, clampBackward, quantize, Tensor, tidy } from '../src/ts';
import { expectGradClose, numericalVjp } from './gradcheck';
import { randomArray, randomTensor } from './helpers';

/** Round half to even, for a reference independent of the kernel's nearbyint. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

describe('clamp', () => {
  test.each([[[1]], [[3, 7]], [[2, 3, 5, 1]]])('closed form and finite differences for %j', (shape) => {
    tidy(() => {
      const n = shape.reduce((a, b) => a * b, 1);
      // Values at least 1e-3 away from the bounds -0.5 and 0.4.
      const raw = randomArray(n, 1, -1, 1);
      const xv = raw.map((v) => (Math.abs(v + 0.5) < 1e-3 || Math.abs(v - 0.4) < 1e-3 ? v + 3e-3 : v));
      const x = Tensor.fromArray(xv, shape);
      expect(Array.from(clamp(x, -0.5, 0.4).toArray())).toEqual(Array.from(xv, (v) => Math.min(Math.max(v, -0.5), 0.4)));
      const dy = randomTensor(shape, 2);
      const dx = clampBackward(dy, x, -0.5, 0.4);
      expectGradClose(dx, numericalVjp(([t]) => clamp(t, -0.5, 0.4), [x], 0, dy.toArray() as Float64Array), 1e-7, 'dx');
      const dyv = dy.toArray();
      expect(Array.from(dx.toArray())).toEqual(Array.from(xv, (v, i) => (v > -0.5 && v < 0.4 ? dyv[i] : 0)));
    });
  });

  test('the gradient at the bounds themselves is zero and bad bounds throw', () => {
    tidy(() => {
      const x = Tensor.fromArray(new Float64Array([0, 0.5, 1]), [3]);
      expect(Array.from(clampBackward(Tensor.fromArray(new Float64Array([1, 1, 1]), [3]), x, 0, 1).toArray())).toEqual([0, 1, 0]);
      expect(() => clamp(x, 1, 0)).toThrow('Error in clamp: min 1 and max 0 must be numbers with min <= max');
      expect(() => clampBackward(randomTensor([2], 1), x, 0, 1)).toThrow('Error in clamp_backward: dy [2] and x [3] must have the same shape');
    });
  });
});

describe('quantize', () => {
  test('rounds half to even and clamps to [0, 1]', () => {
    tidy(() => {
      // With 4 levels the ties 0.5, 1.5, 2.5, 3.5 sit at x = 0.125, 0.375, 0.625, 0.875.
      const x = Tensor.fromArray(new Float64Array([-1, 0.125, 0.375, 0.625, 0.875, 0.2, 1, 7]), [8]);
      expect(Array.from(quantize(x, 4).toArray())).toEqual([0, 0, 0.5, 0.5, 1, 0.25, 1, 1]);
    });
  });

  test.each(['float32', 'float64'] as const)('matches an exact half-even reference at 255 levels in %s', (dtype) => {
    tidy(() => {
      const values = randomArray(10000, 3, -0.1, 1.1);
      // Values at or next to the rounding boundaries (k + 0.5) / 255; the reference forms the same double product x * 255.
      for (let k = 0; k < 255; k += 7) values[k] = (k + 0.5) / 255;
      const x = Tensor.fromArray(dtype === 'float64' ? values : Float32Array.from(values), [10000], { dtype });
      const xv = x.toArray();
      const out = quantize(x).toArray();
      const round = dtype === 'float64' ? (v: number) => v : Math.fround;
      for (let i = 0; i < xv.length; i++) {
        const expected = round(roundHalfEven(Math.min(Math.max(xv[i], 0), 1) * 255) / 255);
        if (out[i] !== expected) throw new Error(`quantize(${xv[i]}) = ${out[i]}, expected ${expected}`);
      }
    });
  });

  test('bad levels throw', () => {
    tidy(() => {
      expect(() => quantize(randomTensor([2], 1), 0)).toThrow('Error in quantize: levels must be positive, got 0');
    });
  });
});
