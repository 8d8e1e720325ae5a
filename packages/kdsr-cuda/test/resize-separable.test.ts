import { resizeSeparable, Tensor, tidy } from '../src/ts';
import { expectClose, randomArray, randomTensor } from './helpers';
import { expectGradClose, numericalVjp } from './gradcheck';

/** Dense float64 oracle: y[p] = mh · x[p] · mwᵀ. */
function oracle(x: Tensor, mh: Tensor, mw: Tensor): Float64Array {
  const [b, c, h, w] = x.shape;
  const [oh, ow] = [mh.shape[0], mw.shape[0]];
  const xv = x.toArray();
  const hv = mh.toArray();
  const wv = mw.toArray();
  const y = new Float64Array(b * c * oh * ow);
  for (let p = 0; p < b * c; p++)
    for (let i = 0; i < oh; i++)
      for (let k = 0; k < ow; k++) {
        let s = 0;
        for (let j = 0; j < h; j++) for (let l = 0; l < w; l++) s += hv[i * h + j] * xv[(p * h + j) * w + l] * wv[k * w + l];
        y[(p * oh + i) * ow + k] = s;
      }
  return y;
}

/** A banded random matrix with some all-zero rows, like the resize matrices. */
function bandedMatrix(rows: number, cols: number, seed: number, dtype: 'float32' | 'float64'): Tensor {
  const r = randomArray(rows * cols, seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    if (i % 5 === 3) continue;
    const centre = Math.floor(((i + 0.5) * cols) / rows);
    for (let j = Math.max(0, centre - 2); j <= Math.min(cols - 1, centre + 3); j++) data[i * cols + j] = r[i * cols + j];
  }
  return Tensor.fromArray(dtype === 'float64' ? data : Float32Array.from(data), [rows, cols], { dtype });
}

function transpose(m: Tensor): Tensor {
  const [r, c] = m.shape;
  const v = m.toArray();
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = v[i * c + j];
  return Tensor.fromArray(out, [c, r], { dtype: 'float64' });
}

describe('resize_separable', () => {
  test.each([
    [[2, 3, 9, 7], 4, 11, 'float64'],
    [[1, 2, 16, 20], 5, 4, 'float32'],
    [[3, 1, 5, 6], 12, 13, 'float64'],
  ] as Array<[number[], number, number, 'float32' | 'float64']>)('matches the dense oracle for x %j -> (%i, %i) in %s', (shape, oh, ow, dtype) => {
    tidy(() => {
      const x = randomTensor(shape, 3, dtype);
      const mh = bandedMatrix(oh, shape[2], 4, dtype);
      const mw = bandedMatrix(ow, shape[3], 5, dtype);
      const y = resizeSeparable(x, mh, mw);
      expect(y.shape).toEqual([shape[0], shape[1], oh, ow]);
      expect(y.dtype).toBe(dtype);
      const expected = oracle(x, mh, mw);
      expectClose(y, Tensor.fromArray(dtype === 'float64' ? expected : Float32Array.from(expected), y.shape, { dtype }), dtype === 'float64' ? 1e-12 : 1e-6, 'y');
    });
  });

  test('the composite gradient resizeSeparable(dy, mhᵀ, mwᵀ) matches finite differences', () => {
    tidy(() => {
      const x = randomTensor([2, 2, 6, 5], 11);
      const mh = bandedMatrix(4, 6, 12, 'float64');
      const mw = bandedMatrix(7, 5, 13, 'float64');
      const dy = randomTensor([2, 2, 4, 7], 14);
      const numerical = numericalVjp(([t]) => resizeSeparable(t, mh, mw), [x], 0, dy.toArray() as Float64Array);
      expectGradClose(resizeSeparable(dy, transpose(mh), transpose(mw)), numerical, 1e-7, 'dx');
    });
  });

  test('rejects matrices that do not fit x', () => {
    tidy(() => {
      const x = randomTensor([1, 1, 6, 5], 1);
      expect(() => resizeSeparable(x, bandedMatrix(3, 5, 1, 'float64'), bandedMatrix(3, 5, 1, 'float64'))).toThrow(/Error in resize_separable: mh \[3,5\] must have 6 columns/);
      expect(() => resizeSeparable(x, bandedMatrix(3, 6, 1, 'float64'), bandedMatrix(3, 4, 1, 'float64'))).toThrow(/mw \[3,4\] must have 5 columns/);
      expect(() => resizeSeparable(x, bandedMatrix(3, 6, 1, 'float32'), bandedMatrix(3, 5, 1, 'float64'))).toThrow(/float64 but mh is float32/);
    });
  });
});
