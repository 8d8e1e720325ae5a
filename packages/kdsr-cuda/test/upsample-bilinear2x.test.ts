import { Tensor, tidy, upsampleBilinear2x, upsampleBilinear2xBackward } from '../src/ts';
import { expectClose, fixtureTensor, randomTensor } from './helpers';
import { expectGradClose, numericalVjp } from './gradcheck';

const F = 'gan.safetensors';

/** The fixtures README's 1-D rule: out[0] = in[0], out[2j] = in[j-1]/4 + 3 in[j]/4, out[2j+1] = 3 in[j]/4 + in[j+1]/4, out[2n-1] = in[n-1]. */
function upsample1d(v: number[]): number[] {
  const n = v.length;
  const out: number[] = [];
  for (let j = 0; j < n; j++) {
    out.push(j === 0 ? v[0] : 0.25 * v[j - 1] + 0.75 * v[j]);
    out.push(j === n - 1 ? v[n - 1] : 0.75 * v[j] + 0.25 * v[j + 1]);
  }
  return out;
}

describe('upsample_bilinear2x', () => {
  test('matches the fixture forward and gradient', () => {
    tidy(() => {
      expectClose(upsampleBilinear2x(fixtureTensor(F, 'op.upsample2.x')), fixtureTensor(F, 'op.upsample2.y'), 1e-5, 'y');
      expectClose(upsampleBilinear2xBackward(fixtureTensor(F, 'op.upsample2.dy')), fixtureTensor(F, 'op.upsample2.grad_x'), 1e-4, 'grad_x');
    });
  });

  test('is the separable 1-D rule on rows and columns, for sizes 1 to 4', () => {
    tidy(() => {
      for (const [h, w] of [[1, 1], [1, 4], [3, 2], [4, 3]]) {
        const x = randomTensor([1, 1, h, w], 3);
        const xv = Array.from(x.toArray());
        const rows = Array.from({ length: h }, (_, r) => upsample1d(xv.slice(r * w, (r + 1) * w)));
        const expected = new Float64Array(4 * h * w);
        for (let c = 0; c < 2 * w; c++) upsample1d(rows.map((row) => row[c])).forEach((value, r) => (expected[r * 2 * w + c] = value));
        expectClose(upsampleBilinear2x(x), Tensor.fromArray(expected, [1, 1, 2 * h, 2 * w]), 1e-15, `${h}x${w}`);
      }
    });
  });

  test.each([[[1, 1, 1, 1]], [[2, 3, 4, 5]], [[1, 2, 3, 1]]])('backward matches finite differences for %j', (shape) => {
    tidy(() => {
      const x = randomTensor(shape, 4);
      const dy = randomTensor([shape[0], shape[1], 2 * shape[2], 2 * shape[3]], 5);
      expectGradClose(upsampleBilinear2xBackward(dy), numericalVjp(([t]) => upsampleBilinear2x(t), [x], 0, dy.toArray() as Float64Array), 1e-7, 'dx');
    });
  });

  test('rejects bad arguments with clear errors', () => {
    tidy(() => {
      expect(() => upsampleBilinear2x(randomTensor([3, 4, 5], 6))).toThrow('Error in upsample_bilinear2x: x must have rank 4, got shape [3,4,5]');
      expect(() => upsampleBilinear2xBackward(randomTensor([1, 1, 3, 4], 7))).toThrow(
        'Error in upsample_bilinear2x_backward: dy must have even height and width, got [1,1,3,4]',
      );
    });
  });
});
