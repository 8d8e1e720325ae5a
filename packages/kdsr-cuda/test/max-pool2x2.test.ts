import { maxPool2x2, maxPool2x2Backward, Tensor, tidy } from '../src/ts';
import { expectClose, fixtureTensor, randomArray, randomTensor } from './helpers';
import { expectGradClose, numericalVjp } from './gradcheck';

const F = 'gan.safetensors';

/** Distinct values (a shuffled ramp with steps of 0.01), so no window has a tie within the finite-difference step. */
function distinct(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const keys = randomArray(n, seed);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => keys[a] - keys[b]);
  const values = new Float64Array(n);
  order.forEach((index, rank) => (values[index] = (rank - n / 2) * 0.01));
  return Tensor.fromArray(values, shape);
}

describe('max_pool2x2', () => {
  test('matches the fixture forward and gradient', () => {
    tidy(() => {
      const x = fixtureTensor(F, 'op.maxpool2.x');
      expectClose(maxPool2x2(x), fixtureTensor(F, 'op.maxpool2.y'), 1e-5, 'y');
      expectClose(maxPool2x2Backward(fixtureTensor(F, 'op.maxpool2.dy'), x), fixtureTensor(F, 'op.maxpool2.grad_x'), 1e-4, 'grad_x');
    });
  });

  test('drops an odd last row and column (floor mode)', () => {
    tidy(() => {
      const x = Tensor.fromArray([1, 2, 9, 3, 4, 0, 7, 8, 5], [1, 1, 3, 3], { dtype: 'float64' });
      expect(Array.from(maxPool2x2(x).toArray())).toEqual([4]);
      expect(Array.from(maxPool2x2Backward(Tensor.fromArray([2], [1, 1, 1, 1], { dtype: 'float64' }), x).toArray())).toEqual([0, 0, 0, 0, 2, 0, 0, 0, 0]);
    });
  });

  test.each([[[1, 1, 2, 2]], [[2, 3, 4, 6]], [[1, 2, 5, 7]]])('backward matches finite differences for %j', (shape) => {
    tidy(() => {
      const x = distinct(shape, 8);
      const dy = randomTensor([shape[0], shape[1], Math.floor(shape[2] / 2), Math.floor(shape[3] / 2)], 9);
      expectGradClose(maxPool2x2Backward(dy, x), numericalVjp(([t]) => maxPool2x2(t), [x], 0, dy.toArray() as Float64Array), 1e-7, 'dx');
    });
  });

  test('rejects bad arguments with clear errors', () => {
    tidy(() => {
      expect(() => maxPool2x2(randomTensor([1, 1, 1, 4], 10))).toThrow('Error in max_pool2x2: x must be at least 2x2, got [1,1,1,4]');
      expect(() => maxPool2x2Backward(randomTensor([1, 1, 2, 2], 11), randomTensor([1, 1, 6, 4], 12))).toThrow(
        'Error in max_pool2x2_backward: dy must have shape [1,1,3,2], got [1,1,2,2]',
      );
    });
  });
});
