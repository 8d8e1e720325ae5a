import { Tensor, tidy } from '@kdsr/cuda';
import {
  blur,
  imresize,
  ClassicSampler,
  degradeClassic,
  degradeWithSampler,
  gaussian8Settings,
  gaussianKernel,
  isotropicGaussianKernel,
  Kernel,
  anisotropicSettings,
  ANISO_TEST_KERNELS,
  RandomStream,
} from '../src';
import { expectArrayClose, expectClose, fixtureArray, fixtureMeta, fixtureTensor } from './helpers';

const D = 'degradation.safetensors';

/** The fixture rule for quantised images: equal, or one level off where 255·prequant is within 1e-3 of a half-integer. */
function expectQuantised(actual: Tensor, expected: Tensor, prequant: Tensor, label: string): void {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.toArray();
  const e = expected.toArray();
  const p = prequant.toArray();
  let ties = 0;
  for (let i = 0; i < e.length; i++) {
    const diff = Math.abs(a[i] - e[i]);
    if (diff <= 1e-6) continue;
    const v = 255 * p[i];
    const nearTie = Math.abs(v - Math.floor(v) - 0.5) < 1e-3;
    if (!(nearTie && Math.abs(diff - 1 / 255) < 1e-6)) throw new Error(`${label}[${i}]: expected ${e[i]} got ${a[i]} (255·prequant ${v})`);
    ties++;
  }
  expect(ties).toBeLessThan(5);
}

const kernelOf = (name: string): Kernel => ({ size: 21, data: Float64Array.from(fixtureArray(D, name)) });

describe('blur vs degradation.safetensors', () => {
  test.each([
    ['iso', 5],
    ['aniso', 4],
  ] as const)('%s: one kernel per sample, reflect padding', (family, n) => {
    tidy(() => {
      const hr = fixtureArray(D, 'image.hr');
      const batch = Tensor.fromArray(Float32Array.from({ length: n * hr.length }, (_, i) => hr[i % hr.length]), [n, 3, 64, 48]);
      const all = fixtureArray(D, `kernel.${family}`);
      const kernels = Array.from({ length: n }, (_, b): Kernel => ({ size: 21, data: Float64Array.from(all.subarray(b * 441, (b + 1) * 441)) }));
      expectClose(blur(batch, kernels), fixtureTensor(D, `blur.${family}`), 1e-5, family);
    });
  });
});

describe('srmd pipeline vs degradation.safetensors', () => {
  const cases = fixtureMeta<{ srmd_cases: Array<{ name: string; scale: number; noise_level: number }> }>(D, 'config').srmd_cases;
  test.each(cases.map((c) => [c.name, c] as const))('%s', (name, c) => {
    tidy(() => {
      const normal = c.noise_level > 0 ? fixtureTensor(D, `srmd.${name}.standard_normal`) : undefined;
      const r = degradeClassic(fixtureTensor(D, 'image.hr'), { scale: c.scale, kernels: kernelOf(`srmd.${name}.kernel`), noiseSigma: c.noise_level }, { normal, withUpsampled: true });
      expectClose(r.lrPrequant, fixtureTensor(D, `srmd.${name}.lr_prequant`), 1e-5, 'lr_prequant');
      expectQuantised(r.lr, fixtureTensor(D, `srmd.${name}.lr`), fixtureTensor(D, `srmd.${name}.lr_prequant`), 'lr');
      expectClose(r.hrBlurredPrequant!, fixtureTensor(D, `srmd.${name}.hr_blurred_prequant`), 1e-5, 'hr_blurred_prequant');
      expectQuantised(r.hrBlurred!, fixtureTensor(D, `srmd.${name}.hr_blurred`), fixtureTensor(D, `srmd.${name}.hr_blurred_prequant`), 'hr_blurred');
    });
  });

  test("resize: 'matlab' downsamples with MATLAB imresize (symmetric borders)", () => {
    tidy(() => {
      const hr = fixtureTensor(D, 'image.hr');
      const k = isotropicGaussianKernel(2.6);
      const m = degradeClassic(hr, { scale: 4, kernels: k, resize: 'matlab' });
      expectClose(m.lrPrequant, imresize(blur(hr, k), 0.25), 1e-6, 'matlab');
      // Same interior as the KDSR variant, different border.
      const kdsr = fixtureTensor(D, 'srmd.iso_x4.lr_prequant').toArray();
      const a = m.lrPrequant.toArray();
      let interior = 0;
      let border = 0;
      for (let c = 0; c < 3; c++)
        for (let i = 0; i < 16; i++)
          for (let j = 0; j < 12; j++) {
            const d = Math.abs(a[(c * 16 + i) * 12 + j] - kdsr[(c * 16 + i) * 12 + j]);
            if (i >= 2 && i < 14 && j >= 2 && j < 10) interior = Math.max(interior, d);
            else border = Math.max(border, d);
          }
      expect(interior).toBeLessThan(1e-6);
      expect(border).toBeGreaterThan(1e-4);
    });
  });

  test('the srmd kernels are the documented ones', () => {
    expectArrayClose(isotropicGaussianKernel(2.6).data, fixtureArray(D, 'srmd.iso_x4.kernel'), 1e-5, 'iso_x4');
    expectArrayClose(isotropicGaussianKernel(1.2).data, fixtureArray(D, 'srmd.iso_x2.kernel'), 1e-5, 'iso_x2');
    expectArrayClose(gaussianKernel({ sigmaX: 4, sigmaY: 1.5, theta: (2 * Math.PI) / 3 }).data, fixtureArray(D, 'srmd.aniso_noise_x4.kernel'), 1e-5, 'aniso');
  });

  test('crops to a multiple of the scale; per-sample noise levels scale one shared field', () => {
    tidy(() => {
      const hr = fixtureTensor(D, 'image.hr');
      const r = degradeClassic(hr, { scale: 5, kernels: null });
      expect(r.hr.shape).toEqual([1, 3, 60, 45]);
      expect(r.lr.shape).toEqual([1, 3, 12, 9]);
      // Two copies of the image, noise 5 and 20, against single-sample runs with the same normals.
      const pair = Tensor.fromArray(Float32Array.from({ length: 2 * hr.size }, (_, i) => hr.toArray()[i % hr.size]), [2, 3, 64, 48]);
      const normal = new RandomStream(3).normal([2, 3, 16, 12]);
      const both = degradeClassic(pair, { scale: 4, kernels: isotropicGaussianKernel(1.5), noiseSigma: [5, 20] }, { normal }).lrPrequant.toArray();
      const plane = 3 * 16 * 12;
      [5, 20].forEach((sigma, b) => {
        const one = Tensor.fromArray(normal.toArray().slice(b * plane, (b + 1) * plane), [1, 3, 16, 12]);
        const single = degradeClassic(hr, { scale: 4, kernels: isotropicGaussianKernel(1.5), noiseSigma: sigma }, { normal: one }).lrPrequant.toArray();
        expectArrayClose(both.slice(b * plane, (b + 1) * plane), single, 1e-6, `sample ${b}`);
      });
      expect(() => degradeClassic(hr, { scale: 4, kernels: null, noiseSigma: 5 })).toThrow(/needs a RandomStream/);
    });
  });
});

describe('samplers', () => {
  /** Asserts a sample is uniform on [lo, hi): every one of 10 bins within 5 standard deviations. */
  function expectUniform(values: ArrayLike<number>, lo: number, hi: number, label: string): void {
    const bins = new Array<number>(10).fill(0);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!(v >= lo && v < hi)) throw new Error(`${label}: ${v} outside [${lo}, ${hi})`);
      bins[Math.min(9, Math.floor(((v - lo) / (hi - lo)) * 10))]++;
    }
    const expected = values.length / 10;
    const sd = Math.sqrt(values.length * 0.1 * 0.9);
    for (const count of bins) expect(Math.abs(count - expected)).toBeLessThan(5 * sd);
  }

  test('isotropic σ ~ U(0.2, 4.0), noise σn ~ U(0, N); per batch by default', () => {
    const sampler = new ClassicSampler({ blur: 'iso', noiseLevel: 25, perSample: true });
    const draw = sampler.sample(new RandomStream(7), 5000);
    expect(draw.kernels.length).toBe(5000);
    expectUniform(draw.shapes.map((s) => s.sigmaX), 0.2, 4.0, 'sigma');
    expectUniform(draw.noiseSigmas, 0, 25, 'noise');
    const perBatch = new ClassicSampler({ blur: 'iso' }).sample(new RandomStream(7), 64);
    expect(perBatch.kernels.length).toBe(1);
    expect(perBatch.noiseSigmas).toEqual([0]);
  });

  test('anisotropic λ1, λ2 ~ U(0.2, 4.0) independent, θ ~ U(0, π)', () => {
    const draw = new ClassicSampler({ blur: 'aniso', noiseLevel: 25, perSample: true }).sample(new RandomStream(11), 5000);
    const l1 = draw.shapes.map((s) => s.sigmaX);
    const l2 = draw.shapes.map((s) => s.sigmaY);
    expectUniform(l1, 0.2, 4.0, 'lambda1');
    expectUniform(l2, 0.2, 4.0, 'lambda2');
    expectUniform(draw.shapes.map((s) => s.theta), 0, Math.PI, 'theta');
    // Independence: the sample correlation of λ1 and λ2 is within 5/sqrt(n) of 0.
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const [m1, m2] = [mean(l1), mean(l2)];
    const cov = mean(l1.map((v, i) => (v - m1) * (l2[i] - m2)));
    const corr = cov / Math.sqrt(mean(l1.map((v) => (v - m1) ** 2)) * mean(l2.map((v) => (v - m2) ** 2)));
    expect(Math.abs(corr)).toBeLessThan(5 / Math.sqrt(5000));
  });

  test('the noise field is N(0, (σn/255)²) per pixel; draws are reproducible from the seed', () => {
    tidy(() => {
      const hr = Tensor.fromArray(new Float32Array(8 * 3 * 128 * 128).fill(0.5), [8, 3, 128, 128]);
      const sampler = new ClassicSampler({ blur: 'iso', noiseLevel: 25 });
      const a = degradeWithSampler(hr, sampler, new RandomStream(5), 4);
      const b = degradeWithSampler(hr, sampler, new RandomStream(5), 4);
      const c = degradeWithSampler(hr, sampler, new RandomStream(6), 4);
      expect(a.draw.shapes).toEqual(b.draw.shapes);
      expect(Array.from(a.lrPrequant.toArray())).toEqual(Array.from(b.lrPrequant.toArray()));
      expect(c.draw.shapes[0].sigmaX).not.toBe(a.draw.shapes[0].sigmaX);
      // A constant image stays 0.5 through blur and resize, so lrPrequant - 0.5 is the noise alone.
      const noise = Array.from(a.lrPrequant.toArray(), (v) => v - 0.5);
      const n = noise.length;
      const m = noise.reduce((s, v) => s + v, 0) / n;
      const variance = noise.reduce((s, v) => s + (v - m) ** 2, 0) / n;
      const sigma = a.draw.noiseSigmas[0] / 255;
      expect(Math.abs(m)).toBeLessThan((5 * sigma) / Math.sqrt(n));
      // Var of the sample variance ≈ 2σ⁴/n.
      expect(Math.abs(variance - sigma * sigma)).toBeLessThan(5 * sigma * sigma * Math.sqrt(2 / n));
    });
  });
});

describe('test settings', () => {
  test('Gaussian8 sigmas equal the fixture', () => {
    expectArrayClose(gaussian8Settings(4).map((s) => s.kernel!.sigmaX), fixtureArray(D, 'gauss8.sigmas_x4'), 1e-6, 'x4');
    expectArrayClose(gaussian8Settings(2).map((s) => s.kernel!.sigmaX), fixtureArray(D, 'gauss8.sigmas_x2'), 1e-6, 'x2');
    expect(() => gaussian8Settings(3)).toThrow(/x2 and x4/);
  });

  test('nine anisotropic kernels within the training range, noise 0/10/20', () => {
    const settings = anisotropicSettings();
    expect(settings.length).toBe(27);
    expect(new Set(settings.map((s) => s.name)).size).toBe(27);
    expect(ANISO_TEST_KERNELS.length).toBe(9);
    for (const [l1, l2, deg] of ANISO_TEST_KERNELS) {
      for (const l of [l1, l2]) expect(l >= 0.2 && l <= 4.0).toBe(true);
      expect(deg >= 0 && deg < 180).toBe(true);
    }
    expect(settings.filter((s) => s.noise === 10).length).toBe(9);
  });
});
