import { channelAffine, channelAffineBackward, tidy } from '../src/ts';
import { expectGradClose, numericalVjp } from './gradcheck';
import { randomTensor, relativeError } from './helpers';

describe('channel_affine', () => {
  test.each([[[1, 1, 1, 1]], [[2, 3, 5, 7]], [[3, 2, 1, 4]]])('forward closed form and gradients by finite differences for %j', (shape) => {
    tidy(() => {
      const [B, C, H, W] = shape;
      const x = randomTensor(shape, 1);
      const scale = randomTensor([C], 2);
      const shift = randomTensor([C], 3);
      const [xv, sv, tv] = [x.toArray(), scale.toArray(), shift.toArray()];
      const expected = Float64Array.from(xv, (v, i) => v * sv[Math.floor(i / (H * W)) % C] + tv[Math.floor(i / (H * W)) % C]);
      expect(relativeError(channelAffine(x, scale, shift).toArray(), expected)).toBeLessThan(1e-15);

      const dy = randomTensor([B, C, H, W], 4);
      const g = dy.toArray() as Float64Array;
      const f = ([a, s, t]: typeof x[]) => channelAffine(a, s, t);
      const { dx, dscale, dshift } = channelAffineBackward(dy, x, scale);
      expectGradClose(dx!, numericalVjp(f, [x, scale, shift], 0, g), 1e-7, 'dx');
      expectGradClose(dscale!, numericalVjp(f, [x, scale, shift], 1, g), 1e-7, 'dscale');
      expectGradClose(dshift!, numericalVjp(f, [x, scale, shift], 2, g), 1e-7, 'dshift');
    });
  });

  test('outputs not asked for are null and the others unchanged', () => {
    tidy(() => {
      const x = randomTensor([2, 3, 2, 2], 1);
      const scale = randomTensor([3], 2);
      const dy = randomTensor([2, 3, 2, 2], 3);
      const all = channelAffineBackward(dy, x, scale);
      const some = channelAffineBackward(dy, x, scale, { needInput: false, needShift: false });
      expect(some.dx).toBeNull();
      expect(some.dshift).toBeNull();
      expect(Array.from(some.dscale!.toArray())).toEqual(Array.from(all.dscale!.toArray()));
    });
  });

  test('float32 agrees with float64', () => {
    tidy(() => {
      const x = randomTensor([2, 4, 3, 5], 1, 'float32');
      const scale = randomTensor([4], 2, 'float32');
      const shift = randomTensor([4], 3, 'float32');
      const y32 = channelAffine(x, scale, shift);
      const y64 = channelAffine(x.cast('float64'), scale.cast('float64'), shift.cast('float64'));
      expect(relativeError(y32.toArray(), y64.toArray())).toBeLessThan(2.5e-7);
      const dy = randomTensor([2, 4, 3, 5], 4, 'float32');
      const g32 = channelAffineBackward(dy, x, scale);
      const g64 = channelAffineBackward(dy.cast('float64'), x.cast('float64'), scale.cast('float64'));
      expect(relativeError(g32.dscale!.toArray(), g64.dscale!.toArray())).toBeLessThan(1e-6);
      expect(relativeError(g32.dshift!.toArray(), g64.dshift!.toArray())).toBeLessThan(1e-6);
    });
  });

  test('bad arguments throw clear errors', () => {
    tidy(() => {
      const x = randomTensor([2, 3, 4, 5], 1);
      expect(() => channelAffine(x, randomTensor([4], 2), randomTensor([3], 3))).toThrow('Error in channel_affine: scale [4] must have one entry per channel of x [2,3,4,5]');
      expect(() => channelAffine(x, randomTensor([3], 2), randomTensor([3], 3, 'float32'))).toThrow('Error in channel_affine: x is float64 but shift is float32');
      expect(() => channelAffineBackward(randomTensor([2, 3, 4, 4], 1), x, randomTensor([3], 2))).toThrow('Error in channel_affine_backward: dy [2,3,4,4] and x [2,3,4,5] must have the same shape');
    });
  });
});
