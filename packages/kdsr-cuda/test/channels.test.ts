import { concatChannels, sliceChannels, sliceChannelsBackward, Tensor, tidy } from '../src/ts';
import { expectGradClose, numericalVjp } from './gradcheck';
import { randomTensor } from './helpers';

/** x[b, c, h, w] of a row-major (B,C,H,W) array. */
function at(x: ArrayLike<number>, shape: readonly number[], b: number, c: number, h: number, w: number): number {
  return x[((b * shape[1] + c) * shape[2] + h) * shape[3] + w];
}

function expectEach(t: Tensor, shape: number[], expected: (b: number, c: number, h: number, w: number) => number): void {
  expect(t.shape).toEqual(shape);
  const v = t.toArray();
  for (let b = 0; b < shape[0]; b++)
    for (let c = 0; c < shape[1]; c++)
      for (let h = 0; h < shape[2]; h++)
        for (let w = 0; w < shape[3]; w++) if (at(v, shape, b, c, h, w) !== expected(b, c, h, w)) throw new Error(`mismatch at [${b},${c},${h},${w}]`);
}

describe('concat_channels / slice_channels', () => {
  test.each([
    [1, 1, 2, 1, 1],
    [2, 3, 5, 4, 7],
    [3, 2, 1, 3, 2],
  ])('concatenate and slice (B %i, Ca %i, Cb %i, H %i, W %i)', (B, Ca, Cb, H, W) => {
    tidy(() => {
      for (const dtype of ['float32', 'float64'] as const) {
        const a = randomTensor([B, Ca, H, W], 1, dtype);
        const b = randomTensor([B, Cb, H, W], 2, dtype);
        const av = a.toArray();
        const bv = b.toArray();
        const y = concatChannels(a, b);
        expectEach(y, [B, Ca + Cb, H, W], (n, c, h, w) => (c < Ca ? at(av, a.shape, n, c, h, w) : at(bv, b.shape, n, c - Ca, h, w)));
        expect(Array.from(sliceChannels(y, 0, Ca).toArray())).toEqual(Array.from(av));
        expect(Array.from(sliceChannels(y, Ca, Cb).toArray())).toEqual(Array.from(bv));
        const yv = y.toArray();
        const start = Math.floor((Ca + Cb - 1) / 2);
        expectEach(sliceChannels(y, start, 1), [B, 1, H, W], (n, _c, h, w) => at(yv, y.shape, n, start, h, w));
      }
    });
  });

  test.each([
    [[1, 1, 1, 1], 0, 1],
    [[2, 7, 3, 5], 2, 4],
    [[3, 4, 2, 1], 3, 1],
  ])('slice backward for %j, start %i, length %i matches finite differences and the zero-padded closed form', (shape, start, length) => {
    tidy(() => {
      const x = randomTensor(shape, 3);
      const dyShape = [shape[0], length, shape[2], shape[3]];
      const dy = randomTensor(dyShape, 4);
      const dx = sliceChannelsBackward(dy, start, shape[1]);
      expectGradClose(dx, numericalVjp(([t]) => sliceChannels(t, start, length), [x], 0, dy.toArray() as Float64Array), 1e-7, 'dx');
      const dyv = dy.toArray();
      expectEach(dx, shape, (b, c, h, w) => (c >= start && c < start + length ? at(dyv, dyShape, b, c - start, h, w) : 0));
    });
  });

  test('the concat gradient is a pair of slices (op-table composite)', () => {
    tidy(() => {
      const a = randomTensor([2, 3, 3, 2], 5);
      const b = randomTensor([2, 2, 3, 2], 6);
      const dy = randomTensor([2, 5, 3, 2], 7);
      const g = dy.toArray() as Float64Array;
      expectGradClose(sliceChannels(dy, 0, 3), numericalVjp(([p, q]) => concatChannels(p, q), [a, b], 0, g), 1e-7, 'da');
      expectGradClose(sliceChannels(dy, 3, 2), numericalVjp(([p, q]) => concatChannels(p, q), [a, b], 1, g), 1e-7, 'db');
    });
  });

  test('bad arguments throw clear errors', () => {
    tidy(() => {
      const a = randomTensor([2, 3, 4, 5], 1);
      expect(() => concatChannels(a, randomTensor([2, 3, 4, 6], 2))).toThrow('Error in concat_channels: a [2,3,4,5] and b [2,3,4,6] must agree in every dimension but the channels');
      expect(() => concatChannels(a, randomTensor([2, 3, 4, 5], 2, 'float32'))).toThrow('Error in concat_channels: a is float64 but b is float32');
      expect(() => concatChannels(a, randomTensor([6, 20], 2))).toThrow('Error in concat_channels: b must have rank 4, got shape [6,20]');
      expect(() => sliceChannels(a, 2, 2)).toThrow('Error in slice_channels: channels [2, 4) are not inside the 3 channels of x [2,3,4,5]');
      expect(() => sliceChannels(a, -1, 1)).toThrow('Error in slice_channels: start must be an integer >= 0, got -1');
      expect(() => sliceChannels(a, 0, 0)).toThrow('Error in slice_channels: length must be a positive integer, got 0');
      expect(() => sliceChannelsBackward(a, 1, 3)).toThrow('Error in slice_channels_backward: channels [1, 4) of dy [2,3,4,5] do not fit in 3 channels');
    });
  });
});
