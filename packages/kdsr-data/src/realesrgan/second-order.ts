// The Real-ESRGAN second-order degradation as KDSR-GAN uses it (spec 2.8): stage 1 (blur k1,
// random resize, Gaussian or Poisson noise, JPEG), stage 2 (blur k2 with probability 0.8, resize
// to a random size, noise), then resize to 1/scale + final sinc + JPEG in one of two orders,
// 8-bit quantisation and one paired random crop for the batch. Choices are per batch or per sample
// exactly as in spec 2.9. KDSR-GAN blurs the plain GT in stage 1 (not the USM-sharpened one).
import { quantize, Tensor, tidy } from '@kdsr/cuda';
import { blur } from '../degradation/blur';
import { Kernel } from '../degradation/kernels';
import { RandomStream } from '../degradation/random-stream';
import { cropTensor, torchResize } from '../degradation/resize';
import { TorchResizeMode } from '../degradation/resize-matrices';
import { randomJpeg } from './jpeg';
import { randomGaussianNoise, randomPoissonNoise } from './noise';

export interface NoiseStageOptions {
  gaussianProb: number;
  gaussianSigmaRange: readonly [number, number];
  poissonScaleRange: readonly [number, number];
  grayProb: number;
}

export interface SecondOrderOptions {
  scale: number;
  /** GT patch side after the paired crop (LQ patch = gtSize / scale). */
  gtSize: number;
  /** Probabilities of up, down, keep and the factor range, stage 1. */
  resizeProb: readonly [number, number, number];
  resizeRange: readonly [number, number];
  noise1: NoiseStageOptions;
  jpegRange: readonly [number, number];
  secondBlurProb: number;
  resizeProb2: readonly [number, number, number];
  resizeRange2: readonly [number, number];
  noise2: NoiseStageOptions;
  jpegRange2: readonly [number, number];
}

/** The KDSR-GAN configuration (= Real-ESRGAN x4plus), spec 2.12. */
export const KDSRGAN_DEGRADATION: SecondOrderOptions = {
  scale: 4,
  gtSize: 256,
  resizeProb: [0.2, 0.7, 0.1],
  resizeRange: [0.15, 1.5],
  noise1: { gaussianProb: 0.5, gaussianSigmaRange: [1, 30], poissonScaleRange: [0.05, 3], grayProb: 0.4 },
  jpegRange: [30, 95],
  secondBlurProb: 0.8,
  resizeProb2: [0.3, 0.4, 0.3],
  resizeRange2: [0.3, 1.2],
  noise2: { gaussianProb: 0.5, gaussianSigmaRange: [1, 25], poissonScaleRange: [0.05, 2.5], grayProb: 0.4 },
  jpegRange2: [30, 95],
};

const MODES: readonly TorchResizeMode[] = ['area', 'bilinear', 'bicubic'];

/** Everything that was drawn for a batch (for logging and tests). */
export interface SecondOrderTrace {
  resize1: { factor: number; mode: TorchResizeMode };
  noise1: { type: 'gaussian' | 'poisson'; values: number[]; gray: boolean[] };
  jpeg1: number[];
  blur2: boolean;
  resize2: { size: [number, number]; mode: TorchResizeMode };
  noise2: { type: 'gaussian' | 'poisson'; values: number[]; gray: boolean[] };
  finalOrder: 'resize-sinc-jpeg' | 'jpeg-resize-sinc';
  finalMode: TorchResizeMode;
  jpeg2: number[];
  crop: { top: number; left: number };
}

export interface PerSampleKernels {
  k1: readonly Kernel[];
  k2: readonly Kernel[];
  sinc: readonly Kernel[];
}

export interface SecondOrderResult {
  /** (B, 3, gtSize/scale, gtSize/scale), 8-bit levels. */
  lq: Tensor;
  /** (B, 3, gtSize, gtSize), the matching GT crop. */
  gt: Tensor;
  trace: SecondOrderTrace;
}

function resizeFactor(stream: RandomStream, probs: readonly [number, number, number], range: readonly [number, number]): number {
  const kind = stream.choice(probs);
  return kind === 0 ? stream.uniform1(1, range[1]) : kind === 1 ? stream.uniform1(range[0], 1) : 1;
}

function noiseStage(x: Tensor, o: NoiseStageOptions, stream: RandomStream): { output: Tensor; trace: SecondOrderTrace['noise1'] } {
  if (stream.uniform1() < o.gaussianProb) {
    const r = randomGaussianNoise(x, { range: o.gaussianSigmaRange, grayProb: o.grayProb }, stream);
    r.noise.dispose();
    return { output: r.output, trace: { type: 'gaussian', values: r.sigma, gray: r.gray } };
  }
  const r = randomPoissonNoise(x, { range: o.poissonScaleRange, grayProb: o.grayProb }, stream);
  r.noise.dispose();
  return { output: r.output, trace: { type: 'poisson', values: r.scale, gray: r.gray } };
}

/**
 * Degrades a GT batch (B, 3, H, W) (400x400 in training) with per-sample kernels. Returns the
 * quantised LQ crop and the matching GT crop.
 */
export function degradeSecondOrder(gt: Tensor, kernels: PerSampleKernels, stream: RandomStream, options: SecondOrderOptions = KDSRGAN_DEGRADATION): SecondOrderResult {
  const [b, c, h, w] = gt.shape;
  if (gt.rank !== 4 || c !== 3) throw new Error(`degradeSecondOrder: expected a (B,3,H,W) GT batch, got [${gt.shape.join(',')}]`);
  for (const [name, list] of Object.entries(kernels)) if (list.length !== b) throw new Error(`degradeSecondOrder: ${list.length} ${name} kernels for a batch of ${b}`);
  const { scale, gtSize } = options;
  const lqH = Math.floor(h / scale);
  const lqW = Math.floor(w / scale);
  const lqPatch = gtSize / scale;
  if (!Number.isInteger(lqPatch) || lqPatch > lqH || lqPatch > lqW) throw new Error(`degradeSecondOrder: a ${gtSize} GT patch does not fit a ${h}x${w} GT at scale ${scale}`);
  // Every blur needs the image larger than its reflect padding (K//2) at the smallest sizes drawn.
  const pad = Math.floor(Math.max(...[...kernels.k1, ...kernels.k2, ...kernels.sinc].map((k) => k.size)) / 2);
  const smallest = Math.min(Math.floor(Math.min(h, w) * options.resizeRange[0]), Math.floor(Math.min(h, w) / scale * options.resizeRange2[0]), Math.min(lqH, lqW));
  if (smallest <= pad)
    throw new Error(`degradeSecondOrder: a ${h}x${w} GT can shrink to ${smallest} pixels, too small for ${2 * pad + 1}x${2 * pad + 1} kernels (use a larger GT)`);
  return tidy(() => {
    // Stage 1.
    let out = blur(gt, kernels.k1);
    const factor1 = resizeFactor(stream, options.resizeProb, options.resizeRange);
    const mode1 = MODES[stream.integer(3)];
    out = torchResize(out, mode1, { scaleFactor: factor1 });
    const n1 = noiseStage(out, options.noise1, stream);
    out = n1.output;
    const j1 = randomJpeg(out, options.jpegRange, stream);
    out = j1.output;
    // Stage 2.
    const blur2 = stream.uniform1() < options.secondBlurProb;
    if (blur2) out = blur(out, kernels.k2);
    const factor2 = resizeFactor(stream, options.resizeProb2, options.resizeRange2);
    const mode2 = MODES[stream.integer(3)];
    const size2: [number, number] = [Math.floor((h / scale) * factor2), Math.floor((w / scale) * factor2)];
    out = torchResize(out, mode2, { size: size2 });
    const n2 = noiseStage(out, options.noise2, stream);
    out = n2.output;
    // Final: resize + sinc + JPEG in one of two orders.
    const resizeFirst = stream.uniform1() < 0.5;
    const finalMode = MODES[stream.integer(3)];
    let quality2: number[];
    if (resizeFirst) {
      out = blur(torchResize(out, finalMode, { size: [lqH, lqW] }), kernels.sinc);
      const j = randomJpeg(out, options.jpegRange2, stream);
      out = j.output;
      quality2 = j.quality;
    } else {
      const j = randomJpeg(out, options.jpegRange2, stream);
      quality2 = j.quality;
      out = blur(torchResize(j.output, finalMode, { size: [lqH, lqW] }), kernels.sinc);
    }
    const lqFull = quantize(out, 255);
    // One crop position for the whole batch.
    const top = stream.integer(lqH - lqPatch + 1);
    const left = stream.integer(lqW - lqPatch + 1);
    const lq = cropTensor(lqFull, top, left, lqPatch, lqPatch);
    const gtCrop = cropTensor(gt, top * scale, left * scale, gtSize, gtSize);
    const trace: SecondOrderTrace = {
      resize1: { factor: factor1, mode: mode1 },
      noise1: n1.trace,
      jpeg1: j1.quality,
      blur2,
      resize2: { size: size2, mode: mode2 },
      noise2: n2.trace,
      finalOrder: resizeFirst ? 'resize-sinc-jpeg' : 'jpeg-resize-sinc',
      finalMode,
      jpeg2: quality2,
      crop: { top, left },
    };
    return { lq, gt: gtCrop, trace };
  });
}
