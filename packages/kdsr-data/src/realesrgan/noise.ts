// Real-ESRGAN noise (spec 2.5), per sample within a batch: Gaussian (colour, or grey from one H×W
// field shared by the whole batch) and Poisson (rates from the 8-bit-rounded image, intensity
// levels V = 2^ceil(log2(distinct values))). The random fields come from the engine (Philox);
// the combination is done on the host. Outputs are clamped to [0, 1], not rounded.
import { Tensor } from '@kdsr/cuda';
import { RandomStream } from '../degradation/random-stream';

export interface NoiseResult {
  noise: Tensor;
  output: Tensor;
}

function checkBatch(op: string, x: Tensor, n: number, what: string): void {
  if (x.rank !== 4 || x.shape[1] !== 3) throw new Error(`${op}: expected a (B,3,H,W) batch, got [${x.shape.join(',')}]`);
  if (n !== x.shape[0]) throw new Error(`${op}: ${what} must have one value per sample (${x.shape[0]}), got ${n}`);
}

type FloatArray = Float32Array | Float64Array;

/** A zeroed array of x's dtype (so tensors are made without a conversion). */
function arrayLike(x: Tensor, n: number): FloatArray {
  return x.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

function finish(x: Tensor, noise: FloatArray): NoiseResult {
  const xv = x.toArray();
  const out = arrayLike(x, xv.length);
  for (let i = 0; i < out.length; i++) {
    const v = xv[i] + noise[i];
    out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  const make = (d: FloatArray) => Tensor.fromArray(d, x.shape, { dtype: x.dtype, device: x.device });
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
  const noise = arrayLike(x, b * c * plane);
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
function levelCounts(levels: Uint8Array, samples: number): number[] {
  const per = levels.length / samples;
  const out: number[] = [];
  const seen = new Uint8Array(256);
  for (let s = 0; s < samples; s++) {
    seen.fill(0);
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

/** clamp(round(255 v), 0, 255), half to even. */
function level(v: number): number {
  const t = v * 255;
  if (!(t > 0)) return 0;
  if (t >= 255) return 255;
  let r = Math.round(t);
  if (r - t === 0.5 && (r & 1) === 1) r--;
  return r;
}

/** 8-bit levels of the colour image and (when asked) of its grey version 0.2989 R + 0.587 G + 0.114 B. */
function roundedImages(xv: ArrayLike<number>, b: number, plane: number, withGray: boolean): { color: Uint8Array; gray: Uint8Array | null } {
  const color = new Uint8Array(xv.length);
  for (let i = 0; i < xv.length; i++) color[i] = level(xv[i]);
  if (!withGray) return { color, gray: null };
  const gray = new Uint8Array(b * plane);
  for (let s = 0; s < b; s++) {
    const o = s * 3 * plane;
    for (let p = 0; p < plane; p++) gray[s * plane + p] = level(0.2989 * xv[o + p] + 0.587 * xv[o + plane + p] + 0.114 * xv[o + 2 * plane + p]);
  }
  return { color, gray };
}

export interface PoissonRates {
  /** V·x̃ per pixel and channel (B,3,H,W), x̃ the 8-bit-rounded image. */
  rateColor: Tensor;
  /** V_gray·g̃ (B,1,H,W) of the rounded grey image g = 0.2989 R + 0.587 G + 0.114 B. */
  rateGray: Tensor;
  valsColor: number[];
  valsGray: number[];
}

function rateTensor(levels: Uint8Array, vals: number[], shape: number[], like: Tensor): Tensor {
  const b = vals.length;
  const per = levels.length / b;
  const data = arrayLike(like, levels.length);
  for (let s = 0; s < b; s++) {
    const k = vals[s] / 255;
    for (let i = s * per; i < (s + 1) * per; i++) data[i] = k * levels[i];
  }
  return Tensor.fromArray(data, shape, { dtype: like.dtype, device: like.device });
}

/** The Poisson rates of a batch (what the counts are drawn from). */
export function poissonRates(x: Tensor): PoissonRates {
  checkBatch('poissonRates', x, x.shape[0], 'x');
  const [b, , h, w] = x.shape;
  const { color, gray } = roundedImages(x.toArray(), b, h * w, true);
  const valsColor = levelCounts(color, b);
  const valsGray = levelCounts(gray!, b);
  return { rateColor: rateTensor(color, valsColor, [...x.shape], x), rateGray: rateTensor(gray!, valsGray, [b, 1, h, w], x), valsColor, valsGray };
}

/** scale_b·(counts/V − level/255) per element, the grey version replicated over channels. */
function poissonNoiseFrom(
  x: Tensor,
  b: number,
  plane: number,
  scale: readonly number[],
  gray: readonly boolean[],
  color: Uint8Array,
  grayLevels: Uint8Array | null,
  cc: ArrayLike<number>,
  cg: ArrayLike<number> | null,
  valsColor: number[],
  valsGray: number[],
): FloatArray {
  const noise = arrayLike(x, b * 3 * plane);
  for (let s = 0; s < b; s++)
    for (let ch = 0; ch < 3; ch++) {
      const o = (s * 3 + ch) * plane;
      if (gray[s]) {
        const g = s * plane;
        for (let p = 0; p < plane; p++) noise[o + p] = (cg![g + p] / valsGray[s] - grayLevels![g + p] / 255) * scale[s];
      } else for (let p = 0; p < plane; p++) noise[o + p] = (cc[o + p] / valsColor[s] - color[o + p] / 255) * scale[s];
    }
  return noise;
}

/**
 * Poisson noise from drawn counts: scale_b·(counts/V − x̃) (colour) or the grey version replicated
 * over channels; added to the unrounded input and clamped. countsGray may be null when no sample is grey.
 */
export function poissonNoise(x: Tensor, scale: readonly number[], gray: readonly boolean[], countsColor: Tensor, countsGray: Tensor | null): NoiseResult & { valsColor: number[]; valsGray: number[] } {
  const op = 'poissonNoise';
  checkBatch(op, x, scale.length, 'scale');
  checkBatch(op, x, gray.length, 'gray');
  const [b, , h, w] = x.shape;
  const plane = h * w;
  if (countsColor.size !== x.size) throw new Error(`${op}: countsColor must have the shape of x`);
  if (gray.some((g) => g) && (!countsGray || countsGray.size !== b * plane)) throw new Error(`${op}: grey samples need (B,1,H,W) countsGray`);
  const { color, gray: grayLevels } = roundedImages(x.toArray(), b, plane, true);
  const valsColor = levelCounts(color, b);
  const valsGray = levelCounts(grayLevels!, b);
  const noise = poissonNoiseFrom(x, b, plane, scale, gray, color, grayLevels, countsColor.toArray(), countsGray ? countsGray.toArray() : null, valsColor, valsGray);
  return { ...finish(x, noise), valsColor, valsGray };
}

/** random_add_poisson_noise_pt: scale ~ U(range), grey with grayProb, counts from the stream. */
export function randomPoissonNoise(x: Tensor, options: NoiseRange, stream: RandomStream): NoiseResult & { scale: number[]; gray: boolean[] } {
  checkBatch('randomPoissonNoise', x, x.shape[0], 'x');
  const [b, , h, w] = x.shape;
  const plane = h * w;
  const { value: scale, gray } = noiseParameters(stream.uniform(b), stream.uniform(b), options);
  const anyGray = gray.some((g) => g);
  const { color, gray: grayLevels } = roundedImages(x.toArray(), b, plane, anyGray);
  const valsColor = levelCounts(color, b);
  const valsGray = grayLevels ? levelCounts(grayLevels, b) : [];
  const draw = (rate: Tensor) => {
    const counts = stream.poisson(rate);
    rate.dispose();
    const values = counts.toArray();
    counts.dispose();
    return values;
  };
  // As the reference: the grey counts (when needed) are drawn before the colour counts.
  const cg = grayLevels ? draw(rateTensor(grayLevels, valsGray, [b, 1, h, w], x)) : null;
  const cc = draw(rateTensor(color, valsColor, [...x.shape], x));
  const noise = poissonNoiseFrom(x, b, plane, scale, gray, color, grayLevels, cc, cg, valsColor, valsGray);
  return { ...finish(x, noise), scale, gray };
}
