import { add, axpy, mul, runOp, scale, sub, Tensor, tidy } from '../src/ts';
import { expectGradClose, numericalVjp } from './gradcheck';
import { randomTensor, relativeError } from './helpers';

const shapes = [[1], [3, 5], [2, 3, 5, 7]];
// One or two roundings of the result: float32 within ~1.2e-7 of its largest value, float64 ~2.2e-16.
const tolerance = { float32: 2.5e-7, float64: 5e-16 } as const;

function expectValues(t: Tensor, shape: number[], expected: (i: number) => number, dtype: 'float32' | 'float64'): void {
  expect(t.shape).toEqual(shape);
  expect(t.dtype).toBe(dtype);
  const want = Float64Array.from({ length: t.size }, (_, i) => expected(i));
  expect(relativeError(t.toArray(), want)).toBeLessThanOrEqual(tolerance[dtype]);
}

describe.each(['float32', 'float64'] as const)('elementwise ops in %s', (dtype) => {
  test.each(shapes.map((s) => [s]))('match their closed forms for shape %j', (shape) => {
    tidy(() => {
      const a = randomTensor(shape, 11, dtype);
      const b = randomTensor(shape, 12, dtype);
      const av = a.toArray();
      const bv = b.toArray();
      expectValues(add(a, b), shape, (i) => av[i] + bv[i], dtype);
      expectValues(sub(a, b), shape, (i) => av[i] - bv[i], dtype);
      expectValues(mul(a, b), shape, (i) => av[i] * bv[i], dtype);
      expectValues(scale(a, -2.5), shape, (i) => -2.5 * av[i], dtype);
      expectValues(axpy(a, b, 0.75), shape, (i) => 0.75 * av[i] + bv[i], dtype);
    });
  });
});

describe('elementwise gradients (the composite rules of op-table.json)', () => {
  test.each(shapes.map((s) => [s]))('agree with finite differences for shape %j', (shape) => {
    tidy(() => {
      const a = randomTensor(shape, 21);
      const b = randomTensor(shape, 22);
      const dy = randomTensor(shape, 23);
      const g = dy.toArray() as Float64Array;
      // add: da = dy, db = dy
      expectGradClose(dy, numericalVjp(([x, y]) => add(x, y), [a, b], 0, g), 1e-7, 'add da');
      expectGradClose(dy, numericalVjp(([x, y]) => add(x, y), [a, b], 1, g), 1e-7, 'add db');
      // sub: db = -dy
      expectGradClose(scale(dy, -1), numericalVjp(([x, y]) => sub(x, y), [a, b], 1, g), 1e-7, 'sub db');
      // mul: da = dy * b, db = dy * a
      expectGradClose(mul(dy, b), numericalVjp(([x, y]) => mul(x, y), [a, b], 0, g), 1e-7, 'mul da');
      expectGradClose(mul(dy, a), numericalVjp(([x, y]) => mul(x, y), [a, b], 1, g), 1e-7, 'mul db');
      // scale: dx = alpha dy; axpy: dx = alpha dy, dy_in = dy
      expectGradClose(scale(dy, 1.5), numericalVjp(([x]) => scale(x, 1.5), [a], 0, g), 1e-7, 'scale dx');
      expectGradClose(scale(dy, -0.5), numericalVjp(([x, y]) => axpy(x, y, -0.5), [a, b], 0, g), 1e-7, 'axpy dx');
      expectGradClose(dy, numericalVjp(([x, y]) => axpy(x, y, -0.5), [a, b], 1, g), 1e-7, 'axpy dy');
    });
  });
});

describe('elementwise argument checks', () => {
  test('different shapes, dtypes or bad attributes throw clear errors', () => {
    tidy(() => {
      const a = randomTensor([2, 3], 1);
      const b = randomTensor([3, 2], 2);
      const c = randomTensor([2, 3], 3, 'float32');
      expect(() => add(a, b)).toThrow('Error in add: a [2,3] and b [3,2] must have the same shape');
      expect(() => mul(a, c)).toThrow('Error in mul: a is float64 but b is float32');
      expect(() => axpy(a, b, 2)).toThrow('Error in axpy: x [2,3] and y [3,2] must have the same shape');
      expect(() => scale(a, NaN)).toThrow('Error in scale: alpha must be a finite number');
      // The native kernels keep their own checks for direct callers.
      expect(() => runOp('sub', [a, b])).toThrow('Error in sub: a [2,3] and b [3,2] must have the same shape');
      expect(() => runOp('add', [a, c])).toThrow('Error in add: a and b must have the same dtype');
    });
  });
});
