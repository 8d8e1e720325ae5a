import { reduceBackward, reduceMax, reduceMaxBackward, reduceMean, reduceSum, Tensor, tidy } from '../src/ts';
import { expectGradClose, numericalVjp } from './gradcheck';
import { randomTensor, relativeError } from './helpers';

/** Reduction of x (row-major `shape`) over `dim` (or all) with a JS fold; returns [values, shape]. */
function reference(x: ArrayLike<number>, shape: number[], dim: number | undefined, fold: (values: number[]) => number): [Float64Array, number[]] {
  if (dim === undefined) return [new Float64Array([fold(Array.from(x))]), [1]];
  const d = dim < 0 ? dim + shape.length : dim;
  const outer = shape.slice(0, d).reduce((a, b) => a * b, 1);
  const inner = shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const n = shape[d];
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++)
    for (let k = 0; k < inner; k++) out[o * inner + k] = fold(Array.from({ length: n }, (_, j) => x[(o * n + j) * inner + k]));
  const outShape = shape.filter((_, i) => i !== d);
  return [out, outShape.length ? outShape : [1]];
}

const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
const cases: Array<[number[], number | undefined]> = [
  [[1], undefined],
  [[1], 0],
  [[7], 0],
  [[3, 5], 0],
  [[3, 5], 1],
  [[3, 5], -1],
  [[2, 3, 5], 1],
  [[2, 1, 3, 70], 2],
  [[2, 3, 5], undefined],
];

describe('reduce_sum / reduce_mean / reduce_max', () => {
  test.each(cases)('match JS folds for %j over dim %p', (shape, dim) => {
    tidy(() => {
      const x = randomTensor(shape, 1);
      const xv = x.toArray();
      for (const [op, fold] of [
        [reduceSum, sum],
        [reduceMean, (v: number[]) => sum(v) / v.length],
        [reduceMax, (v: number[]) => Math.max(...v)],
      ] as const) {
        const [expected, expectedShape] = reference(xv, shape, dim, fold);
        const y = op(x, dim);
        expect(y.shape).toEqual(expectedShape);
        expect(relativeError(y.toArray(), expected)).toBeLessThan(1e-15);
      }
    });
  });

  test.each(cases)('backward kernels match finite differences for %j over dim %p', (shape, dim) => {
    tidy(() => {
      const x = randomTensor(shape, 2); // distinct values: the maximum is unique and away from ties
      const n = dim === undefined ? x.size : shape[dim < 0 ? dim + shape.length : dim];
      const y = reduceMax(x, dim);
      const dy = randomTensor([...y.shape], 3);
      const g = dy.toArray() as Float64Array;
      expectGradClose(reduceBackward(dy, shape, { dim, alpha: 1 }), numericalVjp(([t]) => reduceSum(t, dim), [x], 0, g), 1e-7, 'sum');
      expectGradClose(reduceBackward(dy, shape, { dim, alpha: 1 / n }), numericalVjp(([t]) => reduceMean(t, dim), [x], 0, g), 1e-7, 'mean');
      expectGradClose(reduceMaxBackward(dy, x, y, dim), numericalVjp(([t]) => reduceMax(t, dim), [x], 0, g), 1e-7, 'max');
    });
  });

  test('large sums are accurate and independent of the chunking', () => {
    tidy(() => {
      // 1e6 float32 values of 0.1f: a float32 running sum would be off by ~1e-2 relative.
      const x = Tensor.fromArray(new Float32Array(1_000_003).fill(0.1), [1_000_003]);
      const exact = 1_000_003 * Math.fround(0.1);
      expect(Math.abs(reduceSum(x).toArray()[0] - exact) / exact).toBeLessThan(1e-7);
      expect(Math.abs(reduceMean(x).toArray()[0] - Math.fround(0.1))).toBeLessThan(1e-8);
    });
  });

  test('max routes the gradient to the first maximum and propagates NaN', () => {
    tidy(() => {
      const x = Tensor.fromArray(new Float64Array([1, 3, 3, 2, 5, 5]), [2, 3]);
      const y = reduceMax(x, 1);
      expect(Array.from(y.toArray())).toEqual([3, 5]);
      const dy = Tensor.fromArray(new Float64Array([10, 20]), [2]);
      expect(Array.from(reduceMaxBackward(dy, x, y, 1).toArray())).toEqual([0, 10, 0, 0, 20, 0]);
      const all = reduceMax(x);
      expect(Array.from(reduceMaxBackward(Tensor.fromArray(new Float64Array([7]), [1]), x, all).toArray())).toEqual([0, 0, 0, 0, 7, 0]);
      const withNan = Tensor.fromArray(new Float64Array([1, NaN, 3, 2]), [2, 2]);
      expect(Array.from(reduceMax(withNan, 0).toArray()).map(String)).toEqual(['3', 'NaN']);
      expect(reduceMax(withNan).toArray()[0]).toBeNaN();
    });
  });

  test('bad arguments throw clear errors', () => {
    tidy(() => {
      const x = randomTensor([2, 3], 1);
      expect(() => reduceSum(x, 2)).toThrow('Error in reduce_sum: dim 2 is out of range for shape [2,3]');
      expect(() => reduceMean(x, 0.5)).toThrow('Error in reduce_mean: dim must be an integer, got 0.5');
      expect(() => reduceMax(Tensor.fromArray(new Float64Array(0), [0, 3]), 0)).toThrow('Error in reduce_max: cannot reduce an empty extent of shape [0,3]');
      expect(() => reduceBackward(randomTensor([2], 2), [2, 3], { dim: 0 })).toThrow('Error in reduce_backward: dy [2] must have the reduced shape [3]');
      expect(() => reduceMaxBackward(randomTensor([3], 2), x, randomTensor([3], 3), 0)).toThrow('Error in reduce_max_backward: y is not the maximum of x');
      expect(() => reduceMaxBackward(randomTensor([2], 2), x, randomTensor([2], 3), 0)).toThrow('Error in reduce_max_backward: y [2] must have the reduced shape [3] of x [2,3]');
    });
  });
});
