import { globalAvgPool, globalAvgPoolBackward, tidy } from '../src/ts';
import { expectGradClose, numericalVjp } from './gradcheck';
import { expectClose, fixtureTensor, randomTensor, relativeError } from './helpers';

const F = 'ops.safetensors';

describe('global_avg_pool', () => {
  test('matches the fixture forward and gradient', () => {
    tidy(() => {
      const x = fixtureTensor(F, 'avgpool.x');
      expectClose(globalAvgPool(x), fixtureTensor(F, 'avgpool.y'), 1e-5, 'y');
      expectClose(globalAvgPoolBackward(fixtureTensor(F, 'avgpool.dy'), x.shape[2], x.shape[3]), fixtureTensor(F, 'avgpool.grad_x'), 1e-4, 'grad_x');
    });
  });

  test.each([[[1, 1, 1, 1]], [[2, 3, 5, 7]], [[1, 4, 1, 9]]])('forward is the plane mean and backward matches finite differences for %j', (shape) => {
    tidy(() => {
      const [B, C, H, W] = shape;
      const x = randomTensor(shape, 3);
      const xv = x.toArray();
      const expected = Float64Array.from({ length: B * C }, (_, p) => Array.from(xv.slice(p * H * W, (p + 1) * H * W)).reduce((s, v) => s + v, 0) / (H * W));
      const y = globalAvgPool(x);
      expect(y.shape).toEqual([B, C]);
      expect(relativeError(y.toArray(), expected)).toBeLessThan(1e-15);
      const dy = randomTensor([B, C], 4);
      expectGradClose(globalAvgPoolBackward(dy, H, W), numericalVjp(([t]) => globalAvgPool(t), [x], 0, dy.toArray() as Float64Array), 1e-7, 'dx');
    });
  });

  test('bad arguments throw clear errors', () => {
    tidy(() => {
      expect(() => globalAvgPool(randomTensor([2, 3, 4], 1))).toThrow('Error in global_avg_pool: x must have rank 4, got shape [2,3,4]');
      expect(() => globalAvgPoolBackward(randomTensor([2, 3, 1, 1], 1), 2, 2)).toThrow('Error in global_avg_pool_backward: dy must have rank 2');
      expect(() => globalAvgPoolBackward(randomTensor([2, 3], 1), 0, 2)).toThrow('Error in global_avg_pool_backward: height must be a positive integer, got 0');
    });
  });
});
