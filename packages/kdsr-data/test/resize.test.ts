import { Tensor, tidy } from '@kdsr/cuda';
import {
  bicubicKdsr,
  bicubicKdsrMatrix,
  imresize,
  imresizeMatrix,
  ResizeMatrix,
  resizeWithMatrices,
  torchResize,
  torchResizeMatrix,
  TorchResizeMode,
} from '../src';
import { expectArrayClose, expectClose, fixtureArray, fixtureMeta, fixtureTensor } from './helpers';

const D = 'degradation.safetensors';
const R = 'realesrgan.safetensors';

function constant(shape: number[], value: number): Tensor {
  return Tensor.fromArray(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value), shape);
}

describe('KDSR-classic bicubic vs degradation.safetensors', () => {
  test('matrices for 64 -> 16 and 16 -> 64', () => {
    expectArrayClose(bicubicKdsrMatrix(64, 1 / 4).data, fixtureArray(D, 'bicubic.matrix_down_x4'), 1e-5, 'down');
    expectArrayClose(bicubicKdsrMatrix(16, 4).data, fixtureArray(D, 'bicubic.matrix_up_x4'), 1e-5, 'up');
  });

  test.each([
    [4, 'bicubic.down_x4'],
    [3, 'bicubic.down_x3'],
    [2, 'bicubic.down_x2'],
  ])('down by %i', (s, name) => {
    tidy(() => expectClose(bicubicKdsr(fixtureTensor(D, 'image.hr'), 1 / s), fixtureTensor(D, name), 1e-5, name));
  });

  test('up by 4 (float32 and float64)', () => {
    tidy(() => {
      const lr = fixtureTensor(D, 'bicubic.down_x4');
      expectClose(bicubicKdsr(lr, 4), fixtureTensor(D, 'bicubic.up_x4'), 1e-5, 'up f32');
      expectClose(bicubicKdsr(lr.cast('float64'), 4), fixtureTensor(D, 'bicubic.up_x4').cast('float64'), 1e-6, 'up f64');
    });
  });
});

describe('MATLAB imresize vs realesrgan.safetensors', () => {
  const cases = fixtureMeta<{ imresize: { cases: Array<{ name: string; scale: number }> } }>(R, 'config').imresize.cases;
  test.each(cases.map((c) => [c.name, c.scale] as const))('%s', (name, scale) => {
    expectArrayClose(imresizeMatrix(36, scale).data, fixtureArray(R, `${name}.matrix_h`), 1e-5, 'matrix_h');
    expectArrayClose(imresizeMatrix(52, scale).data, fixtureArray(R, `${name}.matrix_w`), 1e-5, 'matrix_w');
    tidy(() => expectClose(imresize(fixtureTensor(R, 'resize.input'), scale), fixtureTensor(R, name), 1e-5, name));
  });

  test('KDSR and MATLAB borders differ only near the edges', () => {
    const a = bicubicKdsrMatrix(64, 1 / 4);
    const b = imresizeMatrix(64, 1 / 4);
    const rowDiff = (i: number) => Math.max(...Array.from(a.data.subarray(i * 64, i * 64 + 64), (v, j) => Math.abs(v - b.data[i * 64 + j])));
    expect(rowDiff(0)).toBeGreaterThan(1e-3);
    expect(rowDiff(15)).toBeGreaterThan(1e-3);
    for (let i = 2; i < 14; i++) expect(rowDiff(i)).toBe(0);
  });
});

describe('torch interpolate vs realesrgan.safetensors', () => {
  const cases = fixtureMeta<{ resize: { cases: Array<{ name: string; mode: TorchResizeMode; scale_factor?: number; size?: [number, number] }> } }>(R, 'config').resize.cases;
  test.each(cases.map((c) => [c.name, c] as const))('%s', (name, c) => {
    tidy(() => {
      const target = c.scale_factor !== undefined ? { scaleFactor: c.scale_factor } : { size: c.size! };
      expectClose(torchResize(fixtureTensor(R, 'resize.input'), c.mode, target), fixtureTensor(R, name), 1e-5, name);
    });
  });
});

describe('spec test vectors (section 5, resampling)', () => {
  const row = (m: ResizeMatrix, i: number) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));

  test('10: ×1/4 interior taps', () => {
    const taps = [-7, -45, -75, -49, 93, 399, 745, 987, 987, 745, 399, 93, -49, -75, -45, -7].map((v) => v / 4096);
    for (const m of [bicubicKdsrMatrix(64, 1 / 4), imresizeMatrix(64, 1 / 4)])
      for (const j of [2, 7, 13]) {
        const r = row(m, j);
        taps.forEach((t, p) => expect(r[4 * j - 6 + p]).toBeCloseTo(t, 14));
        expect(r.filter((v) => v !== 0).length).toBe(16);
      }
  });

  test('11: ×4 up taps', () => {
    const expected: Record<string, number[]> = {
      '0.125': [-49, 987, 93, -7],
      '0.375': [-75, 745, 399, -45],
      '0.625': [-45, 399, 745, -75],
      '0.875': [-7, 93, 987, -49],
    };
    const m = bicubicKdsrMatrix(16, 4);
    for (let j = 8; j < 56; j++) {
      const x = (j + 0.5) / 4 - 0.5;
      const f = x - Math.floor(x);
      const r = row(m, j);
      expected[String(f)].forEach((w, p) => expect(r[Math.floor(x) - 1 + p]).toBeCloseTo(w / 1024, 14));
    }
  });

  test('12 and 14: constant images stay constant', () => {
    tidy(() => {
      const c = constant([1, 2, 40, 28], 0.3);
      const check = (t: Tensor) => expect(Math.max(...Array.from(t.toArray(), (v) => Math.abs(v - 0.3)))).toBeLessThan(1e-6);
      check(bicubicKdsr(c, 1 / 4));
      check(bicubicKdsr(c, 4));
      check(imresize(c, 1 / 4));
      check(imresize(c, 4));
      for (const mode of ['area', 'bilinear', 'bicubic'] as const) {
        check(torchResize(c, mode, { scaleFactor: 0.37 }));
        check(torchResize(c, mode, { size: [61, 17] }));
      }
    });
  });

  test('13: nearest ×4 then MATLAB ×1/4 is the 5-tap filter (-52, 368, 3464, 368, -52)/4096', () => {
    const n = 16;
    const nearest: ResizeMatrix = { rows: 4 * n, cols: n, data: new Float64Array(4 * n * n) };
    for (let i = 0; i < 4 * n; i++) nearest.data[i * n + Math.floor(i / 4)] = 1;
    const down = bicubicKdsrMatrix(4 * n, 1 / 4);
    const taps = [-52, 368, 3464, 368, -52].map((v) => v / 4096);
    for (let j = 2; j < n - 2; j++)
      for (let k = 0; k < n; k++) {
        let s = 0;
        for (let i = 0; i < 4 * n; i++) s += down.data[j * 4 * n + i] * nearest.data[i * n + k];
        const expected = k >= j - 2 && k <= j + 2 ? taps[k - j + 2] : 0;
        expect(s).toBeCloseTo(expected, 14);
      }
  });

  test('14: area with an integer factor is the block mean; size-preserving resizes are the identity', () => {
    tidy(() => {
      const x = fixtureTensor(R, 'resize.input');
      const v = x.toArray();
      const area = torchResize(x, 'area', { scaleFactor: 0.5 }).toArray();
      expect(area[3 * 26 + 5]).toBeCloseTo((v[6 * 52 + 10] + v[6 * 52 + 11] + v[7 * 52 + 10] + v[7 * 52 + 11]) / 4, 6);
      for (const mode of ['area', 'bilinear', 'bicubic'] as const) {
        expectClose(torchResize(x, mode, { scaleFactor: 1 }), x, 1e-7, `${mode} keep`);
        expectClose(torchResize(x, mode, { size: [36, 52] }), x, 1e-7, `${mode} same size`);
      }
    });
  });

  test('15: sizes of the second-order pipeline', () => {
    expect(torchResizeMatrix(400, Math.floor(400 * 0.15), 'bilinear', 0.15).rows).toBe(60);
    expect(Math.floor(400 * 1.5)).toBe(600);
    expect(Math.floor((400 / 4) * 0.3)).toBe(30);
    expect(Math.floor((400 / 4) * 1.2)).toBe(120);
  });

  test('resizeWithMatrices takes host matrices; too-small images give a clear error', () => {
    tidy(() => {
      const x = fixtureTensor(D, 'image.hr');
      expectClose(resizeWithMatrices(x, bicubicKdsrMatrix(64, 0.25), bicubicKdsrMatrix(48, 0.25)), fixtureTensor(D, 'bicubic.down_x4'), 1e-5, 'down');
      expect(() => bicubicKdsr(constant([1, 3, 3, 8], 0), 1 / 4)).toThrow(/output length 0 for input length 3/);
    });
  });
});
