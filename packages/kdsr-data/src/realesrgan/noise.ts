// Real-ESRGAN noise (spec 2.5), per sample within a batch: Gaussian (colour, or grey from one H×W
// field shared by the whole batch) and Poisson (rates from the 8-bit-rounded image, intensity
// levels V = 2^ceil(log2(distinct values))). The random fields come from the engine (Philox);
// the combination is done on the host. Outputs are clamped to [0, 1], not rounded.
import { Tensor } from '@kdsr/cuda';
import { roundHalfEven } from '../image/host-image';
import { RandomStream } from '../degradation/random-stream';

export interface NoiseResult {
  noise: Tensor;
  output: Tensor;
}

function checkBatch(op: string, x: Tensor, n: number, what: string): void {
  if (x.rank !== 4 || x.shape[1] !== 3) throw new Error(`${op}: expected a (B,3,H,W) batch, got [${x.shape.join(',')}]`);
  if (n !== x.shape[0]) throw new Error(`${op}: ${what} must have one value per sample (${x.shape[0]}), got ${n}`);
}

function finish(x: Tensor, noise: Float64Array): NoiseResult {
  const xv = x.toArray();
  const out = new Float64Array(xv.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(Math.max(xv[i] + noise[i], 0), 1);
  const make = (d: Float64Array) => Tensor.fromArray(d, x.shape, { dtype: x.dtype, device: x.device });
  return { noise: make(noise), output: make(out) };
}

/**
 * Gaussian noise with per-sample σ (0..255 units) and grey flags. normalColor (B,3,H,W) and, when
 * some sample is grey, normalGray (H,W) are standard normal fields.
 */
export function gaussianNoise(x: Tensor, sigma: readonly number[], gray: readonly boolean[], normalColor: Tensor, normalGray: Tensor | null): NoiseResult {
  const op = 'gaussianNoise';
  checkBatch(op, x, sigma.length, 'sigma');
  checkBatch(op, x, gray.length, 'gray');
  const [b, c, h, w] = x.shape;
  if (normalColor.shape.join(',') !== x.shape.join(',')) throw new Error(`${op}: normalColor must have the shape of x`);
  if (gray.some((g) => g) && (!normalGray || normalGray.size !== h * w)) throw new Error(`${op}: grey samples need an ${h}x${w} normalGray field`);
  const nc = normalColor.toArray();
  const ng = normalGray ? normalGray.toArray() : null;
  const plane = h * w;
  const noise = new Float64Array(b * c * plane);
  for (let s = 0; s < b; s++) {
    const scale = sigma[s] / 255;
    for (let ch = 0; ch < c; ch++)
      for (let p = 0; p < plane; p++) {
        const i = (s * c + ch) * plane + p;
        noise[i] = gray[s] ? ng![p] * scale : nc[i] * scale;
      }
  }
  return finish(x, noise);
}

export interface NoiseRange {
  /** Gaussian σ (0..255 units) or Poisson scale range. */
  range: readonly [number, number];
  /** Probability that a sample gets grey noise. */
  grayProb: number;
}

/** Per-sample parameters from uniforms: value = u·(hi - lo) + lo, grey = u_gray < grayProb. */
export function noiseParameters(uniformValue: ArrayLike<number>, uniformGray: ArrayLike<number>, { range, grayProb }: NoiseRange): { value: number[]; gray: boolean[] } {
  return {
    value: Array.from(uniformValue, (u) => u * (range[1] - range[0]) + range[0]),
    gray: Array.from(uniformGray, (u) => u < grayProb),
  };
}

/** random_add_gaussian_noise_pt: σ ~ U(range), grey with grayProb, fields from the stream. */
export function randomGaussianNoise(x: Tensor, options: NoiseRange, stream: RandomStream): NoiseResult & { sigma: number[]; gray: boolean[] } {
  const b = x.shape[0];
  const { value: sigma, gray } = noiseParameters(stream.uniform(b), stream.uniform(b), options);
  const normalGray = gray.some((g) => g) ? stream.normal([x.shape[2], x.shape[3]], { dtype: x.dtype }) : null;
  const normalColor = stream.normal(x.shape, { dtype: x.dtype });
  try {
    return { ...gaussianNoise(x, sigma, gray, normalColor, normalGray), sigma, gray };
  } finally {
    normalColor.dispose();
    normalGray?.dispose();
  }
}

/** Levels V = 2^ceil(log2(number of distinct values)) of each sample of 8-bit level arrays. */
function levelCounts(levels: Int32Array, samples: number): number[] {
  const per = levels.length / samples;
  const out: number[] = [];
  for (let s = 0; s < samples; s++) {
    const seen = new Uint8Array(256);
    let distinct = 0;
    for (let i = s * per; i < (s + 1) * per; i++)
      if (!seen[levels[i]]) {
        seen[levels[i]] = 1;
        distinct++;
      }
    out.push(2 ** Math.ceil(Math.log2(distinct)));
  }
  return out;
}

export interface PoissonRates {
  /** V·x̃ per pixel and channel (B,3,H,W), x̃ the 8-bit-rounded image. */
  rateColor: Tensor;
  /** V_gray·g̃ (B,1,H,W) of the rounded grey image g = 0.2989 R + 0.587 G + 0.114 B. */
  rateGray: Tensor;
  valsColor: number[];
  valsGray: number[];
}

interface RoundedImages {
  color: Int32Array;
  gray: Int32Array;
}

function roundedImages(x: Tensor): RoundedImages {
  const [b, c, h, w] = x.shape;
  const plane = h * w;
  const xv = x.toArray();
  const level = (v: number) => Math.min(Math.max(roundHalfEven(v * 255), 0), 255);
  const color = new Int32Array(xv.length);
  for (let i = 0; i < xv.length; i++) color[i] = level(xv[i]);
  const gray = new Int32Array(b * plane);
  for (let s = 0; s < b; s++)
    for (let p = 0; p < plane; p++) {
      const o = s * c * plane + p;
      gray[s * plane + p] = level(0.2989 * xv[o] + 0.587 * xv[o + plane] + 0.114 * xv[o + 2 * plane]);
    }
  return { color, gray };
}

/** The Poisson rates of a batch (what the counts are drawn from). */
export function poissonRates(x: Tensor): PoissonRates {
  checkBatch('poissonRates', x, x.shape[0], 'x');
  const [b, , h, w] = x.shape;
  const { color, gray } = roundedImages(x);
  const valsColor = levelCounts(color, b);
  const valsGray = levelCounts(gray, b);
  const rate = (levels: Int32Array, vals: number[], shape: number[]) => {
    const per = levels.length / b;
    const data = new Float64Array(levels.length);
    for (let s = 0; s < b; s++) for (let i = s * per; i < (s + 1) * per; i++) data[i] = (vals[s] * levels[i]) / 255;
    return Tensor.fromArray(data, shape, { dtype: x.dtype, device: x.device });
  };
  return { rateColor: rate(color, valsColor, [...x.shape]), rateGray: rate(gray, valsGray, [b, 1, h, w]), valsColor, valsGray };
}

/**
 * Poisson noise from drawn counts: scale_b·(counts/V − x̃) (colour) or the grey version replicated
 * over channels; added to the unrounded input and clamped. countsGray may be null when no sample is grey.
 */
export function poissonNoise(x: Tensor, scale: readonly number[], gray: readonly boolean[], countsColor: Tensor, countsGray: Tensor | null): NoiseResult & { valsColor: number[]; valsGray: number[] } {
  const op = 'poissonNoise';
  checkBatch(op, x, scale.length, 'scale');
  checkBatch(op, x, gray.length, 'gray');
  const [b, c, h, w] = x.shape;
  const plane = h * w;
  if (countsColor.size !== x.size) throw new Error(`${op}: countsColor must have the shape of x`);
  if (gray.some((g) => g) && (!countsGray || countsGray.size !== b * plane)) throw new Error(`${op}: grey samples need (B,1,H,W) countsGray`);
  const { color, gray: grayLevels } = roundedImages(x);
  const valsColor = levelCounts(color, b);
  const valsGray = levelCounts(grayLevels, b);
  const cc = countsColor.toArray();
  const cg = countsGray ? countsGray.toArray() : null;
  const noise = new Float64Array(x.size);
  for (let s = 0; s < b; s++)
    for (let ch = 0; ch < c; ch++)
      for (let p = 0; p < plane; p++) {
        const i = (s * c + ch) * plane + p;
        const n = gray[s] ? cg![s * plane + p] / valsGray[s] - grayLevels[s * plane + p] / 255 : cc[i] / valsColor[s] - color[i] / 255;
        noise[i] = n * scale[s];
      }
  return { ...finish(x, noise), valsColor, valsGray };
}

/** random_add_poisson_noise_pt: scale ~ U(range), grey with grayProb, counts from the stream. */
export function randomPoissonNoise(x: Tensor, options: NoiseRange, stream: RandomStream): NoiseResult & { scale: number[]; gray: boolean[] } {
  const b = x.shape[0];
  const { value: scale, gray } = noiseParameters(stream.uniform(b), stream.uniform(b), options);
  const rates = poissonRates(x);
  const countsGray = gray.some((g) => g) ? stream.poisson(rates.rateGray) : null;
  const countsColor = stream.poisson(rates.rateColor);
  try {
    return { ...poissonNoise(x, scale, gray, countsColor, countsGray), scale, gray };
  } finally {
    for (const t of [rates.rateColor, rates.rateGray, countsColor, countsGray]) t?.dispose();
  }
}
