import { Tensor, tidy } from '@kdsr/cuda';
import {
  blur,
  gaussianNoise,
  impulseKernel,
  jpegCompress,
  Kernel,
  noiseParameters,
  opencvGaussian1d,
  poissonNoise,
  poissonRates,
  RandomStream,
  randomGaussianNoise,
  randomPoissonNoise,
  usmSharpDetailed,
} from '../src';
import { expectArrayClose, expectClose, fixtureArray, fixtureMeta, fixtureTensor } from './helpers';

const R = 'realesrgan.safetensors';
const arr = (name: string) => Array.from(fixtureArray(R, name));

function kernelsOf(name: string): Kernel[] {
  const t = fixtureTensor(R, name);
  const [n, k] = t.shape;
  const all = t.toArray();
  return Array.from({ length: n }, (_, b) => ({ size: k, data: Float64Array.from(all.subarray(b * k * k, (b + 1) * k * k)) }));
}

describe('filter2D (blur with reflect padding)', () => {
  test.each(['k7', 'k21'])('%s: one kernel per sample, asymmetric kernel included', (name) => {
    tidy(() => expectClose(blur(fixtureTensor(R, 'filter2d.input'), kernelsOf(`filter2d.${name}.kernel`)), fixtureTensor(R, `filter2d.${name}.output`), 1e-5, name));
  });
  test('shared21: one kernel for the batch', () => {
    tidy(() => expectClose(blur(fixtureTensor(R, 'filter2d.input'), kernelsOf('filter2d.shared21.kernel')[0]), fixtureTensor(R, 'filter2d.shared21.output'), 1e-5, 'shared'));
  });
  test('the 21x21 impulse is the identity (spec 16)', () => {
    tidy(() => expectClose(blur(fixtureTensor(R, 'filter2d.input'), impulseKernel(21)), fixtureTensor(R, 'filter2d.input'), 1e-7, 'impulse'));
  });
});

describe('noise vs realesrgan.safetensors', () => {
  test('Gaussian with fixed sigma and grey flags', () => {
    tidy(() => {
      const r = gaussianNoise(
        fixtureTensor(R, 'noise.input'),
        arr('noise.gauss.sigma'),
        arr('noise.gauss.gray').map((g) => g === 1),
        fixtureTensor(R, 'noise.gauss.normal_color'),
        fixtureTensor(R, 'noise.gauss.normal_gray'),
      );
      expectClose(r.noise, fixtureTensor(R, 'noise.gauss.noise'), 1e-5, 'noise');
      expectClose(r.output, fixtureTensor(R, 'noise.gauss.output'), 1e-5, 'output');
    });
  });

  test('Gaussian random wrapper: parameters from the uniforms', () => {
    tidy(() => {
      const p = noiseParameters(fixtureArray(R, 'noise.gauss_random.uniform_sigma'), fixtureArray(R, 'noise.gauss_random.uniform_gray'), { range: [1, 30], grayProb: 0.4 });
      expectArrayClose(p.value, fixtureArray(R, 'noise.gauss_random.sigma'), 1e-6, 'sigma');
      expect(p.gray.map(Number)).toEqual(arr('noise.gauss_random.gray'));
      const r = gaussianNoise(fixtureTensor(R, 'noise.input'), p.value, p.gray, fixtureTensor(R, 'noise.gauss_random.normal_color'), fixtureTensor(R, 'noise.gauss_random.normal_gray'));
      expectClose(r.output, fixtureTensor(R, 'noise.gauss_random.output'), 1e-5, 'output');
    });
  });

  test('Poisson with fixed scale and grey flags: V, noise and output', () => {
    tidy(() => {
      const x = fixtureTensor(R, 'noise.input');
      const r = poissonNoise(x, arr('noise.poisson.scale'), arr('noise.poisson.gray').map((g) => g === 1), fixtureTensor(R, 'noise.poisson.counts_color'), fixtureTensor(R, 'noise.poisson.counts_gray'));
      expect(r.valsColor).toEqual(arr('noise.poisson.vals_color'));
      expect(r.valsGray).toEqual(arr('noise.poisson.vals_gray'));
      expect(r.valsColor).toEqual([256, 64, 32, 128]);
      expect(r.valsGray).toEqual([256, 256, 256, 128]);
      expectClose(r.noise, fixtureTensor(R, 'noise.poisson.noise'), 1e-5, 'noise');
      expectClose(r.output, fixtureTensor(R, 'noise.poisson.output'), 1e-5, 'output');
    });
  });

  test('Poisson random wrapper', () => {
    tidy(() => {
      const p = noiseParameters(fixtureArray(R, 'noise.poisson_random.uniform_scale'), fixtureArray(R, 'noise.poisson_random.uniform_gray'), { range: [0.05, 3], grayProb: 0.4 });
      expectArrayClose(p.value, fixtureArray(R, 'noise.poisson_random.scale'), 1e-6, 'scale');
      expect(p.gray.map(Number)).toEqual(arr('noise.poisson_random.gray'));
      const r = poissonNoise(fixtureTensor(R, 'noise.input'), p.value, p.gray, fixtureTensor(R, 'noise.poisson_random.counts_color'), fixtureTensor(R, 'noise.poisson_random.counts_gray'));
      expectClose(r.output, fixtureTensor(R, 'noise.poisson_random.output'), 1e-5, 'output');
    });
  });

  test('spec 18: σ 0 and an all-zero image are unchanged; a constant grey image has V = 1', () => {
    tidy(() => {
      const x = fixtureTensor(R, 'noise.input');
      const n = x.shape[0];
      const zeroSigma = gaussianNoise(x, new Array(n).fill(0), new Array(n).fill(false), fixtureTensor(R, 'noise.gauss.normal_color'), null);
      expectClose(zeroSigma.output, x, 1e-7, 'sigma 0');
      const black = Tensor.fromArray(new Float32Array(2 * 3 * 8 * 8), [2, 3, 8, 8]);
      const rates = poissonRates(black);
      expect(Math.max(...Array.from(rates.rateColor.toArray()))).toBe(0);
      const stream = new RandomStream(4);
      const r = randomPoissonNoise(black, { range: [0.05, 3], grayProb: 0.4 }, stream);
      expect(Math.max(...Array.from(r.output.toArray()))).toBe(0);
      const grey = Tensor.fromArray(new Float32Array(1 * 3 * 8 * 8).fill(100 / 255), [1, 3, 8, 8]);
      expect(poissonRates(grey).valsColor).toEqual([1]);
    });
  });

  test('random wrappers: noise statistics match the drawn parameters', () => {
    tidy(() => {
      const x = Tensor.fromArray(new Float32Array(4 * 3 * 64 * 64).fill(0.5), [4, 3, 64, 64]);
      const g = randomGaussianNoise(x, { range: [1, 30], grayProb: 0.4 }, new RandomStream(21));
      const nv = g.noise.toArray();
      const plane = 64 * 64;
      for (let s = 0; s < 4; s++) {
        let sq = 0;
        for (let i = s * 3 * plane; i < (s + 1) * 3 * plane; i++) sq += nv[i] * nv[i];
        const sd = Math.sqrt(sq / (3 * plane));
        // Grey samples repeat one field over 3 channels: 4096 independent values, else 12288.
        const m = g.gray[s] ? plane : 3 * plane;
        expect(Math.abs(sd / (g.sigma[s] / 255) - 1)).toBeLessThan(5 / Math.sqrt(2 * m));
        if (g.gray[s]) for (let p = 0; p < plane; p++) expect(nv[s * 3 * plane + plane + p]).toBe(nv[s * 3 * plane + p]);
      }
      // Poisson on a constant 0.5 image: x̃ = 128/255, V = 1, so noise/scale = Poisson(128/255) - 128/255.
      const p = randomPoissonNoise(x, { range: [0.05, 3], grayProb: 0 }, new RandomStream(22));
      const pv = p.noise.toArray();
      const lambda = 128 / 255;
      for (let s = 0; s < 4; s++) {
        let mean = 0;
        for (let i = s * 3 * plane; i < (s + 1) * 3 * plane; i++) mean += pv[i] / p.scale[s] / (3 * plane);
        expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(lambda / (3 * plane)));
      }
    });
  });
});

describe('USM sharpening vs realesrgan.safetensors', () => {
  test('kernel, blur, mask, soft mask and output (spec 17)', () => {
    tidy(() => {
      const k = opencvGaussian1d(51);
      expectArrayClose(k, fixtureArray(R, 'usm.kernel1d'), 1e-6, 'kernel1d');
      expect(k[25]).toBeCloseTo(0.0499389391, 9);
      expect(k[0]).toBeCloseTo(0.0003783213, 9);
      expect(k[25] * k[25]).toBeCloseTo(0.0024938976, 9);
      const r = usmSharpDetailed(fixtureTensor(R, 'usm.input'));
      expectClose(r.blur, fixtureTensor(R, 'usm.blur'), 1e-5, 'blur');
      expect(Array.from(r.mask.toArray())).toEqual(arr('usm.mask'));
      expectClose(r.softMask, fixtureTensor(R, 'usm.soft_mask'), 1e-5, 'soft_mask');
      expectClose(r.output, fixtureTensor(R, 'usm.output'), 1e-5, 'output');
      const flat = Tensor.fromArray(new Float32Array(1 * 3 * 30 * 30).fill(0.37), [1, 3, 30, 30]);
      expectClose(usmSharpDetailed(flat).output, flat, 1e-6, 'constant');
    });
  });
});

describe('JPEG step', () => {
  test('clamps, then DiffJPEG with per-sample qualities', () => {
    tidy(() => {
      const q = arr('jpeg.quality');
      expectClose(jpegCompress(fixtureTensor(R, 'jpeg.input'), q), fixtureTensor(R, 'jpeg.output'), 1e-5, 'jpeg');
      expect(fixtureMeta<{ jpeg: { quality: number[] } }>(R, 'config').jpeg.quality).toEqual([30, 57.3, 95]);
      // Values outside [0, 1] are clamped before compression.
      const x = fixtureTensor(R, 'jpeg.input');
      const pushed = Tensor.fromArray(Float32Array.from(x.toArray(), (v) => (v > 0.99 ? 1.7 : v < 0.01 ? -0.4 : v)), x.shape);
      const clampedFirst = Tensor.fromArray(Float32Array.from(x.toArray(), (v) => (v > 0.99 ? 1 : v < 0.01 ? 0 : v)), x.shape);
      expectClose(jpegCompress(pushed, q), jpegCompress(clampedFirst, q), 1e-7, 'clamp');
    });
  });
});
