import {
  covariance,
  gaussianKernel,
  generalizedGaussianKernel,
  isotropicGaussianKernel,
  Kernel,
  KernelShape,
  plateauKernel,
  sincKernel,
} from '../src';
import { expectArrayClose, fixtureArray, fixtureMeta } from './helpers';

const D = 'degradation.safetensors';
const R = 'realesrgan.safetensors';

/** Kernels n = 0.. of an (N, K, K) fixture tensor. */
function fixtureKernels(file: string, name: string, size: number): Float32Array[] {
  const all = fixtureArray(file, name);
  const out: Float32Array[] = [];
  for (let o = 0; o < all.length; o += size * size) out.push(all.subarray(o, o + size * size));
  return out;
}

const at = (k: Kernel, i: number, j: number) => k.data[i * k.size + j];
const sum = (k: Kernel) => k.data.reduce((a, b) => a + b, 0);

describe('classic kernels vs degradation.safetensors', () => {
  const config = fixtureMeta<{ iso_sigmas: number[]; aniso_params_rad: number[][] }>(D, 'config');

  test('isotropic', () => {
    const expected = fixtureKernels(D, 'kernel.iso', 21);
    config.iso_sigmas.forEach((sigma, n) => expectArrayClose(isotropicGaussianKernel(sigma).data, expected[n], 1e-5, `sigma ${sigma}`));
  });

  test('anisotropic and its covariance', () => {
    const expected = fixtureKernels(D, 'kernel.aniso', 21);
    const cov = fixtureArray(D, 'kernel.aniso.cov');
    config.aniso_params_rad.forEach(([l1, l2, theta], n) => {
      const shape = { sigmaX: l1, sigmaY: l2, theta };
      expectArrayClose(gaussianKernel(shape).data, expected[n], 1e-5, `aniso ${n}`);
      expectArrayClose(covariance(shape), cov.subarray(4 * n, 4 * n + 4), 1e-6, `cov ${n}`);
    });
  });
});

describe('Real-ESRGAN kernels vs realesrgan.safetensors', () => {
  const families = fixtureMeta<{ kernels: { families: Record<string, { params: string[]; rows: number[][] }> } }>(R, 'config').kernels.families;
  const build: Record<string, (row: number[], size: number) => Kernel> = {
    gauss_iso: ([s], k) => isotropicGaussianKernel(s, k),
    gauss_aniso: ([sx, sy, t], k) => gaussianKernel({ sigmaX: sx, sigmaY: sy, theta: t }, k),
    gen_iso: ([s, b], k) => generalizedGaussianKernel({ sigmaX: s, sigmaY: s, theta: 0 }, b, k),
    gen_aniso: ([sx, sy, t, b], k) => generalizedGaussianKernel({ sigmaX: sx, sigmaY: sy, theta: t }, b, k),
    plateau_iso: ([s, b], k) => plateauKernel({ sigmaX: s, sigmaY: s, theta: 0 }, b, k),
    plateau_aniso: ([sx, sy, t, b], k) => plateauKernel({ sigmaX: sx, sigmaY: sy, theta: t }, b, k),
  };
  test.each(Object.keys(build))('%s at sizes 7, 13, 21', (family) => {
    const rows = families[family].rows;
    expect(rows.length).toBeGreaterThan(0);
    for (const size of [7, 13, 21]) {
      const expected = fixtureKernels(R, `kernel.${family}.k${size}`, size);
      rows.forEach((row, n) => expectArrayClose(build[family](row, size).data, expected[n], 1e-5, `${family} ${row} k${size}`));
    }
  });

  test('sinc, also zero-padded to 21', () => {
    const rows = fixtureMeta<{ kernels: { sinc: { rows_cutoff_size: number[][] } } }>(R, 'config').kernels.sinc.rows_cutoff_size;
    rows.forEach(([cutoff, size], i) => {
      expectArrayClose(sincKernel(cutoff, size).data, fixtureArray(R, `kernel.sinc.${i}`), 1e-5, `sinc ${i}`);
      expectArrayClose(sincKernel(cutoff, size, 21).data, fixtureArray(R, `kernel.sinc.${i}.pad21`), 1e-5, `sinc ${i} pad21`);
    });
  });
});

describe('spec test vectors (section 5, kernels)', () => {
  const shapes: Array<[string, Kernel]> = [
    ['iso 2.6', isotropicGaussianKernel(2.6)],
    ['aniso', gaussianKernel({ sigmaX: 3.5, sigmaY: 1.5, theta: Math.PI / 6 })],
    ['generalized', generalizedGaussianKernel({ sigmaX: 2, sigmaY: 1, theta: Math.PI / 4 }, 0.5)],
    ['plateau', plateauKernel({ sigmaX: 2, sigmaY: 1, theta: Math.PI / 4 }, 1.5, 13)],
    ['sinc', sincKernel(Math.PI / 3, 7, 21)],
  ];

  test('1-2: every kernel sums to 1 and is centrally symmetric', () => {
    for (const [, k] of shapes) {
      expect(Math.abs(sum(k) - 1)).toBeLessThan(1e-12);
      for (let i = 0; i < k.size; i++)
        for (let j = 0; j < k.size; j++) expect(Math.abs(at(k, i, j) - at(k, k.size - 1 - i, k.size - 1 - j))).toBeLessThan(1e-15);
    }
  });

  test('3: θ periodicity, axis swap, isotropy', () => {
    const s: KernelShape = { sigmaX: 3.1, sigmaY: 0.7, theta: 0.4 };
    const base = gaussianKernel(s).data;
    expectArrayClose(gaussianKernel({ ...s, theta: s.theta + Math.PI }).data, base, 1e-12, 'theta + pi');
    expectArrayClose(gaussianKernel({ sigmaX: s.sigmaY, sigmaY: s.sigmaX, theta: s.theta + Math.PI / 2 }).data, base, 1e-12, 'swap');
    expectArrayClose(gaussianKernel({ sigmaX: 1.3, sigmaY: 1.3, theta: 2.2 }).data, isotropicGaussianKernel(1.3).data, 1e-12, 'iso');
  });

  test('4: generalized with β = 1 is the Gaussian', () => {
    const s: KernelShape = { sigmaX: 2.2, sigmaY: 0.9, theta: -1.1 };
    expectArrayClose(generalizedGaussianKernel(s, 1).data, gaussianKernel(s).data, 1e-12, 'beta 1');
  });

  test('5: classic isotropic values', () => {
    const k = isotropicGaussianKernel(2.6);
    expect(at(k, 10, 10)).toBeCloseTo(0.0235459104, 9);
    expect(at(k, 10, 11)).toBeCloseTo(0.0218671968, 9);
    expect(at(k, 0, 0) / 8.86e-9).toBeCloseTo(1, 3);
    expect(at(isotropicGaussianKernel(1.8), 10, 10)).toBeCloseTo(0.0491218964, 9);
    expect(at(isotropicGaussianKernel(0.2), 10, 10)).toBeCloseTo(0.9999850936, 9);
  });

  test('6: orientation (λ1 0.2, λ2 4.0, θ 0 is a vertical streak)', () => {
    const k = gaussianKernel({ sigmaX: 0.2, sigmaY: 4.0, theta: 0 });
    expect(at(k, 10, 10)).toBeCloseTo(0.1005890461, 9);
    expect(at(k, 11, 10)).toBeCloseTo(0.0974942465, 9);
    expect(at(k, 10, 11) / 3.7486e-7).toBeCloseTo(1, 4);
  });

  test('7: classic anisotropic values', () => {
    const a = gaussianKernel({ sigmaX: 4.0, sigmaY: 1.5, theta: (120 * Math.PI) / 180 });
    expect(at(a, 10, 10)).toBeCloseTo(0.0266045433, 9);
    expect(at(a, 10, 11)).toBeCloseTo(0.0223450057, 9);
    expect(at(a, 11, 10)).toBeCloseTo(0.0245838309, 9);
    expect(at(a, 9, 11)).toBeCloseTo(0.0243613187, 9);
    expect(at(a, 11, 11)).toBeCloseTo(0.0175003868, 9);
    const b = gaussianKernel({ sigmaX: 3.5, sigmaY: 1.5, theta: (30 * Math.PI) / 180 });
    expect(at(b, 10, 10)).toBeCloseTo(0.030337475, 9);
    expect(at(b, 10, 11)).toBeCloseTo(0.0278328213, 9);
    expect(at(b, 11, 10)).toBeCloseTo(0.0254194086, 9);
    expect(at(b, 11, 11)).toBeCloseTo(0.0272880073, 9);
    expect(at(b, 9, 11)).toBeCloseTo(0.0199303378, 9);
  });

  test('8: generalized and plateau values', () => {
    const s = { sigmaX: 2, sigmaY: 1, theta: Math.PI / 4 };
    const g = generalizedGaussianKernel(s, 0.5);
    expect(at(g, 10, 10)).toBeCloseTo(0.0222120384, 9);
    expect(at(g, 10, 11)).toBeCloseTo(0.0149595472, 9);
    expect(at(g, 11, 10)).toBeCloseTo(0.0149595472, 9);
    const p = plateauKernel(s, 1.5);
    expect(at(p, 10, 10)).toBeCloseTo(0.0737224899, 9);
    expect(at(p, 10, 11)).toBeCloseTo(0.0493422124, 9);
    expect(at(plateauKernel(s, 1), 10, 10)).toBeCloseTo(0.0382413198, 9);
  });

  test('9: sinc values', () => {
    const k = sincKernel(Math.PI, 21);
    expect(at(k, 10, 10)).toBeCloseTo(0.7891192635, 9);
    expect(at(k, 10, 11)).toBeCloseTo(0.1429819043, 9);
    expect(at(k, 11, 11)).toBeCloseTo(-0.0764575204, 9);
    expect(Math.min(...k.data)).toBeCloseTo(-0.0764575204, 9);
    expect(at(k, 0, 0)).toBeCloseTo(-0.0013797511, 9);
    expect(at(sincKernel(Math.PI / 3, 21), 10, 10)).toBeCloseTo(0.087758104, 9);
    expect(at(sincKernel(Math.PI / 3, 7), 3, 3)).toBeCloseTo(0.0636353983, 9);
    expect(at(sincKernel(Math.PI / 5, 13), 6, 6)).toBeCloseTo(0.0245388054, 9);
    expect(at(sincKernel(Math.PI / 2, 11), 5, 5)).toBeCloseTo(0.1741100054, 9);
  });

  test('bad sizes and sigmas are rejected', () => {
    expect(() => isotropicGaussianKernel(1, 20)).toThrow(/odd/);
    expect(() => gaussianKernel({ sigmaX: 0, sigmaY: 1, theta: 0 })).toThrow(/positive/);
  });
});
