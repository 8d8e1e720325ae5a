import { diffJpeg, Tensor, tidy } from '../src/ts';
import { expectClose, fixtureTensor, randomArray } from './helpers';

const R = 'realesrgan.safetensors';

describe('diff_jpeg', () => {
  test.each(['float32', 'float64'] as const)('matches the fixture output and quantised coefficients (%s)', (dtype) => {
    tidy(() => {
      const x = fixtureTensor(R, 'jpeg.input').cast(dtype);
      const q = fixtureTensor(R, 'jpeg.quality').cast(dtype);
      const r = diffJpeg(x, q, { needCoefficients: true });
      expectClose(r.y, fixtureTensor(R, 'jpeg.output').cast(dtype), 1e-5, 'output');
      for (const [name, t] of [
        ['coef_y', r.coefY],
        ['coef_cb', r.coefCb],
        ['coef_cr', r.coefCr],
      ] as const) {
        const expected = fixtureTensor(R, `jpeg.${name}`);
        expect(t!.shape).toEqual(expected.shape);
        expect(Array.from(t!.toArray(), (v) => v + 0)).toEqual(Array.from(expected.toArray(), (v) => v + 0)); // -0 == 0
      }
    });
  });

  test('constant grey images (spec test vector 20)', () => {
    tidy(() => {
      const r = diffJpeg(fixtureTensor(R, 'jpeg_const.input'), fixtureTensor(R, 'jpeg_const.quality'));
      expectClose(r.y, fixtureTensor(R, 'jpeg_const.output'), 1e-5, 'const');
      const y = r.y.toArray();
      const expected = [128, 100, 102, 100.5, 101, 101.3333333, 201.3333333, 0];
      expected.forEach((v, b) => expect(y[b * 768 + 100] * 255).toBeCloseTo(v, 3));
      expect(r.coefY).toBeNull();
    });
  });

  test('quality to factor (spec test vector 19) through the reconstruction of a flat grey', () => {
    // For a flat grey v the output is 128 + 2f·round((v - 128)/(2f)) (DC step 16·f/8 = 2f in pixel units).
    tidy(() => {
      for (const [q, f] of [
        [30, 5 / 3],
        [49.9, 50 / 49.9],
        [50, 1],
        [75, 0.5],
        [95, 0.1],
      ]) {
        // Away from ties: (v - 128)/(2f) is at least 0.15 from a half-integer for every f here.
        const v = 150.37;
        const x = Tensor.fromArray(new Float64Array(3 * 16 * 16).fill(v / 255), [1, 3, 16, 16], { dtype: 'float64' });
        const y = diffJpeg(x, Tensor.fromArray(new Float64Array([q]), [1], { dtype: 'float64' })).y.toArray();
        expect(y[0] * 255).toBeCloseTo(128 + 2 * f * Math.round((v - 128) / (2 * f)), 6);
      }
    });
  });

  test('sizes that are not multiples of 16 keep their size; a higher quality is closer to the input', () => {
    tidy(() => {
      const x = Tensor.fromArray(Float64Array.from(randomArray(2 * 3 * 21 * 35, 4), (v) => 0.5 + 0.4 * v), [2, 3, 21, 35], { dtype: 'float64' });
      const err = (q: number) => {
        const y = diffJpeg(x, Tensor.fromArray(new Float64Array([q, q]), [2], { dtype: 'float64' })).y.toArray();
        expect(y.length).toBe(x.size);
        const xv = x.toArray();
        let s = 0;
        for (let i = 0; i < y.length; i++) s += Math.abs(y[i] - xv[i]);
        return s / y.length;
      };
      const errors = [30, 60, 95].map(err);
      expect(errors[0]).toBeGreaterThan(errors[1]);
      expect(errors[1]).toBeGreaterThan(errors[2]);
    });
  });

  test('rejects wrong channels, quality counts and qualities out of range', () => {
    tidy(() => {
      const x = Tensor.fromArray(new Float32Array(2 * 3 * 8 * 8), [2, 3, 8, 8]);
      expect(() => diffJpeg(Tensor.fromArray(new Float32Array(64), [1, 1, 8, 8]), Tensor.fromArray([50], [1]))).toThrow(/3 channels/);
      expect(() => diffJpeg(x, Tensor.fromArray([50], [1]))).toThrow(/one value per sample/);
      expect(() => diffJpeg(x, Tensor.fromArray([50, 0], [2]))).toThrow(/quality must be in \(0, 100\]/);
    });
  });
});
