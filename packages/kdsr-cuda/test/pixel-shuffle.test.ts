import { pixelShuffle, pixelUnshuffle, Tensor, tidy } from '../src/ts';
import { expectGradClose, numericalVjp } from './gradcheck';
import { expectClose, fixtureTensor, randomTensor } from './helpers';

const F = 'ops.safetensors';

/** Reference pixel_shuffle by the fixture README's index formula. */
function shuffleReference(x: Tensor, r: number): Float64Array {
  const [B, Cin, H, W] = x.shape;
  const C = Cin / (r * r);
  const v = x.toArray();
  const out = new Float64Array(x.size);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++)
      for (let Y = 0; Y < H; Y++)
        for (let X = 0; X < W; X++)
          for (let i = 0; i < r; i++)
            for (let j = 0; j < r; j++)
              out[((b * C + c) * H * r + Y * r + i) * W * r + X * r + j] = v[((b * Cin + c * r * r + i * r + j) * H + Y) * W + X];
  return out;
}

describe('pixel_shuffle / pixel_unshuffle', () => {
  test('match the fixtures (forward and gradient)', () => {
    tidy(() => {
      const x = fixtureTensor(F, 'pixel_shuffle.x');
      expectClose(pixelShuffle(x, 2), fixtureTensor(F, 'pixel_shuffle.y'), 1e-5, 'pixel_shuffle.y');
      // The gradient of pixel_shuffle is pixel_unshuffle of dy (op-table composite).
      expectClose(pixelUnshuffle(fixtureTensor(F, 'pixel_shuffle.dy'), 2), fixtureTensor(F, 'pixel_shuffle.grad_x'), 1e-4, 'pixel_shuffle.grad_x');
      const u = fixtureTensor(F, 'pixel_unshuffle.x');
      expectClose(pixelUnshuffle(u, 4), fixtureTensor(F, 'pixel_unshuffle.y'), 1e-5, 'pixel_unshuffle.y');
      expectClose(pixelShuffle(fixtureTensor(F, 'pixel_unshuffle.dy'), 4), fixtureTensor(F, 'pixel_unshuffle.grad_x'), 1e-4, 'pixel_unshuffle.grad_x');
    });
  });

  test.each([
    [[1, 9, 3, 5], 3],
    [[2, 4, 1, 7], 2],
    [[1, 2, 2, 3], 1],
  ])('shuffle of %j with factor %i follows the index formula and unshuffle inverts it', (shape, r) => {
    tidy(() => {
      for (const dtype of ['float32', 'float64'] as const) {
        const x = randomTensor(shape, 5, dtype);
        const y = pixelShuffle(x, r);
        expect(y.shape).toEqual([shape[0], shape[1] / (r * r), shape[2] * r, shape[3] * r]);
        expect(Array.from(y.toArray())).toEqual(Array.from(shuffleReference(x, r)));
        const back = pixelUnshuffle(y, r);
        expect(back.shape).toEqual(shape);
        expect(Array.from(back.toArray())).toEqual(Array.from(x.toArray()));
      }
    });
  });

  test('gradients agree with finite differences on an odd shape', () => {
    tidy(() => {
      const x = randomTensor([1, 9, 3, 2], 6);
      const dy = randomTensor([1, 1, 9, 6], 7);
      expectGradClose(pixelUnshuffle(dy, 3), numericalVjp(([t]) => pixelShuffle(t, 3), [x], 0, dy.toArray() as Float64Array), 1e-7, 'shuffle');
      const z = randomTensor([2, 1, 6, 3], 8);
      const dz = randomTensor([2, 9, 2, 1], 9);
      expectGradClose(pixelShuffle(dz, 3), numericalVjp(([t]) => pixelUnshuffle(t, 3), [z], 0, dz.toArray() as Float64Array), 1e-7, 'unshuffle');
    });
  });

  test('bad arguments throw clear errors', () => {
    tidy(() => {
      const x = randomTensor([2, 6, 4, 6], 1);
      expect(() => pixelShuffle(x, 2)).toThrow('Error in pixel_shuffle: the channels of x [2,6,4,6] must be a multiple of factor^2 = 4');
      expect(() => pixelUnshuffle(x, 4)).toThrow('Error in pixel_unshuffle: the height and width of x [2,6,4,6] must be multiples of the factor 4');
      expect(() => pixelShuffle(x, 0)).toThrow('Error in pixel_shuffle: factor must be a positive integer, got 0');
      expect(() => pixelUnshuffle(randomTensor([4, 6], 2), 2)).toThrow('Error in pixel_unshuffle: x must have rank 4, got shape [4,6]');
    });
  });
});
