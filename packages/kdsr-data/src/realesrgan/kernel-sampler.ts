// Per-sample blur kernels of the second-order pipeline (spec 2.2): k1 and k2 are sinc kernels with
// probability sincProb, else "mixed" kernels (iso / aniso Gaussian, generalized, plateau), of a
// random odd size 7..21; the final kernel is a sinc with probability finalSincProb, else the
// impulse. All are delivered zero-padded to 21x21.
import { generalizedGaussianKernel, gaussianKernel, impulseKernel, Kernel, KernelShape, padKernel, plateauKernel, sincKernel } from '../degradation/kernels';
import { RandomStream } from '../degradation/random-stream';

export const KERNEL_TYPES = ['iso', 'aniso', 'generalized_iso', 'generalized_aniso', 'plateau_iso', 'plateau_aniso'] as const;
export type KernelType = (typeof KERNEL_TYPES)[number];

export interface KernelStageOptions {
  /** σ range (blur_sigma / blur_sigma2). */
  sigmaRange: readonly [number, number];
  /** Probabilities of KERNEL_TYPES (kernel_prob). */
  typeProbabilities: readonly number[];
  betagRange: readonly [number, number];
  betapRange: readonly [number, number];
  thetaRange: readonly [number, number];
  sincProb: number;
}

export interface KernelSamplerOptions {
  stage1: KernelStageOptions;
  stage2: KernelStageOptions;
  finalSincProb: number;
  /** Candidate sizes (default 7, 9, ..., 21). */
  sizes: readonly number[];
  /** Size everything is padded to (default 21). */
  padTo: number;
}

const TYPE_PROBABILITIES = [0.45, 0.25, 0.12, 0.03, 0.12, 0.03];

/** The KDSR-GAN / Real-ESRGAN x4plus configuration. */
export const REALESRGAN_KERNELS: KernelSamplerOptions = {
  stage1: { sigmaRange: [0.2, 3], typeProbabilities: TYPE_PROBABILITIES, betagRange: [0.5, 4], betapRange: [1, 2], thetaRange: [-Math.PI, Math.PI], sincProb: 0.1 },
  stage2: { sigmaRange: [0.2, 1.5], typeProbabilities: TYPE_PROBABILITIES, betagRange: [0.5, 4], betapRange: [1, 2], thetaRange: [-Math.PI, Math.PI], sincProb: 0.1 },
  finalSincProb: 0.8,
  sizes: [7, 9, 11, 13, 15, 17, 19, 21],
  padTo: 21,
};

/** What was drawn for one kernel. */
export type KernelDraw =
  | { family: 'sinc'; size: number; cutoff: number }
  | { family: KernelType; size: number; shape: KernelShape; beta: number }
  | { family: 'impulse' };

export interface SampleKernels {
  k1: Kernel;
  k2: Kernel;
  sinc: Kernel;
  draws: { k1: KernelDraw; k2: KernelDraw; sinc: KernelDraw };
}

/** β ~ U(lo, 1) with probability 1/2, else U(1, hi) (so β_p range [1, 2] gives exactly 1 half of the time). */
function drawBeta(stream: RandomStream, [lo, hi]: readonly [number, number]): number {
  return stream.uniform1() < 0.5 ? stream.uniform1(lo, 1) : stream.uniform1(1, hi);
}

function drawStageKernel(stream: RandomStream, o: KernelStageOptions, sizes: readonly number[], padTo: number): { kernel: Kernel; draw: KernelDraw } {
  const size = sizes[stream.integer(sizes.length)];
  if (stream.uniform1() < o.sincProb) {
    const cutoff = size < 13 ? stream.uniform1(Math.PI / 3, Math.PI) : stream.uniform1(Math.PI / 5, Math.PI);
    return { kernel: sincKernel(cutoff, size, padTo), draw: { family: 'sinc', size, cutoff } };
  }
  const family = KERNEL_TYPES[stream.choice(o.typeProbabilities)];
  const isotropic = family === 'iso' || family === 'generalized_iso' || family === 'plateau_iso';
  const sigmaX = stream.uniform1(o.sigmaRange[0], o.sigmaRange[1]);
  const shape: KernelShape = isotropic
    ? { sigmaX, sigmaY: sigmaX, theta: 0 }
    : { sigmaX, sigmaY: stream.uniform1(o.sigmaRange[0], o.sigmaRange[1]), theta: stream.uniform1(o.thetaRange[0], o.thetaRange[1]) };
  let kernel: Kernel;
  let beta = 1;
  if (family === 'iso' || family === 'aniso') kernel = gaussianKernel(shape, size);
  else if (family === 'generalized_iso' || family === 'generalized_aniso') {
    beta = drawBeta(stream, o.betagRange);
    kernel = generalizedGaussianKernel(shape, beta, size);
  } else {
    beta = drawBeta(stream, o.betapRange);
    kernel = plateauKernel(shape, beta, size);
  }
  return { kernel: padKernel(kernel, padTo), draw: { family, size, shape, beta } };
}

/** Draws k1, k2 and the final kernel of one sample. */
export function sampleKernels(stream: RandomStream, options: KernelSamplerOptions = REALESRGAN_KERNELS): SampleKernels {
  const k1 = drawStageKernel(stream, options.stage1, options.sizes, options.padTo);
  const k2 = drawStageKernel(stream, options.stage2, options.sizes, options.padTo);
  let sinc: { kernel: Kernel; draw: KernelDraw };
  if (stream.uniform1() < options.finalSincProb) {
    const size = options.sizes[stream.integer(options.sizes.length)];
    const cutoff = stream.uniform1(Math.PI / 3, Math.PI);
    sinc = { kernel: sincKernel(cutoff, size, options.padTo), draw: { family: 'sinc', size, cutoff } };
  } else sinc = { kernel: impulseKernel(options.padTo), draw: { family: 'impulse' } };
  return { k1: k1.kernel, k2: k2.kernel, sinc: sinc.kernel, draws: { k1: k1.draw, k2: k2.draw, sinc: sinc.draw } };
}
