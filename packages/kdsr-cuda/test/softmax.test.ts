import { logSoftmax, logSoftmaxBackward, softmax, softmaxBackward, Tensor, tidy } from '../src/ts';
import { expectGradClose, numericalVjp } from './gradcheck';
import { randomTensor, relativeError } from './helpers';

/** Softmax of each row of length n, straight from the definition (inputs are small, no overflow). */
function softmaxReference(x: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / n; r++) {
    let z = 0;
    for (let i = 0; i < n; i++) z += Math.exp(x[r * n + i]);
    for (let i = 0; i < n; i++) out[r * n + i] = Math.exp(x[r * n + i]) / z;
  }
  return out;
}

const shapes = [[[1]], [[7]], [[3, 4]], [[2, 3, 5]]];

describe('softmax / log_softmax', () => {
  test.each(shapes)('match the definition for %j in float64 and float32', (shape) => {
    tidy(() => {
      const x = randomTensor(shape, 1, 'float64', -3, 3);
      const n = shape[shape.length - 1];
      const expected = softmaxReference(x.toArray(), n);
      expect(relativeError(softmax(x).toArray(), expected)).toBeLessThan(1e-14);
      expect(relativeError(logSoftmax(x).toArray(), expected.map(Math.log))).toBeLessThan(1e-14);
      const x32 = x.cast('float32');
      expect(relativeError(softmax(x32).toArray(), softmaxReference(x32.toArray(), n))).toBeLessThan(2.5e-7);
      expect(softmax(x32).dtype).toBe('float32');
    });
  });

  test.each(shapes)('backward matches finite differences for %j', (shape) => {
    tidy(() => {
      const x = randomTensor(shape, 2, 'float64', -2, 2);
      const dy = randomTensor(shape, 3);
      const g = dy.toArray() as Float64Array;
      expectGradClose(softmaxBackward(dy, softmax(x)), numericalVjp(([t]) => softmax(t), [x], 0, g), 1e-7, 'softmax');
      expectGradClose(logSoftmaxBackward(dy, logSoftmax(x)), numericalVjp(([t]) => logSoftmax(t), [x], 0, g), 1e-7, 'log_softmax');
    });
  });

  test('are stable for large inputs', () => {
    tidy(() => {
      const x = Tensor.fromArray(new Float32Array([1000, 999, -1000, 88, 89, 90]), [2, 3]);
      const e = Math.exp(-1);
      const y = softmax(x).toArray();
      const expected = [1 / (1 + e), e / (1 + e), 0, e * e / (1 + e + e * e), e / (1 + e + e * e), 1 / (1 + e + e * e)];
      expect(relativeError(y, expected)).toBeLessThan(2.5e-7);
      const l = logSoftmax(x).toArray();
      expect(l[2]).toBeCloseTo(-2000 - Math.log(1 + e), 3);
      expect(Array.from(l).every(Number.isFinite)).toBe(true);
    });
  });

  test('bad arguments throw clear errors', () => {
    tidy(() => {
      const x = randomTensor([2, 3], 1);
      expect(() => softmax(Tensor.fromArray(new Float64Array(0), [2, 0]))).toThrow('Error in softmax: x [2,0] needs a non-empty last dimension');
      expect(() => softmaxBackward(randomTensor([3, 2], 2), x)).toThrow('Error in softmax_backward: dy [3,2] and y [2,3] must have the same shape');
      expect(() => logSoftmaxBackward(randomTensor([2, 3], 2, 'float32'), x)).toThrow('Error in log_softmax_backward: dy is float32 but y is float64');
    });
  });
});
