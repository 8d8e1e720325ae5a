// Training-time draws of the classic degradation (spec 1.2, 1.5): isotropic σ ~ U(0.2, 4.0), or
// anisotropic λ1, λ2 ~ U(0.2, 4.0), θ ~ U(0, π); noise σn ~ U(0, 1)·N. KDSR-classic draws one kernel
// and one noise level per batch (the default here); perSample draws them for every sample.
import { Tensor } from '@kdsr/cuda';
import { ClassicResult, degradeClassic } from './classic';
import { gaussianKernel, Kernel, KernelShape } from './kernels';
import { RandomStream } from './random-stream';

export interface ClassicSamplerOptions {
  blur: 'iso' | 'aniso';
  /** Isotropic σ range (default [0.2, 4.0]). */
  sigmaRange?: readonly [number, number];
  /** Range of λ1 and of λ2, drawn independently (default [0.2, 4.0]). */
  lambdaRange?: readonly [number, number];
  /** θ range in radians (default [0, π]). */
  thetaRange?: readonly [number, number];
  /** Noise level N in 0..255 units: σn ~ U(0, 1)·N (default 0: no noise). */
  noiseLevel?: number;
  /** Kernel size (default 21). */
  kernelSize?: number;
  /** One kernel and noise level per sample instead of per batch (default false). */
  perSample?: boolean;
}

export interface ClassicDraw {
  /** Kernel parameters: one entry per batch, or per sample with perSample. */
  shapes: KernelShape[];
  kernels: Kernel[];
  /** Noise standard deviations in 0..255 units, aligned with `kernels`. */
  noiseSigmas: number[];
}

export class ClassicSampler {
  readonly options: Required<ClassicSamplerOptions>;

  constructor(options: ClassicSamplerOptions) {
    this.options = {
      sigmaRange: [0.2, 4.0],
      lambdaRange: [0.2, 4.0],
      thetaRange: [0, Math.PI],
      noiseLevel: 0,
      kernelSize: 21,
      perSample: false,
      ...options,
    };
    const { sigmaRange, lambdaRange, thetaRange, noiseLevel } = this.options;
    for (const [name, [lo, hi]] of [['sigmaRange', sigmaRange], ['lambdaRange', lambdaRange], ['thetaRange', thetaRange]] as const)
      if (!(lo <= hi)) throw new Error(`ClassicSampler: ${name} [${lo}, ${hi}] is empty`);
    if (sigmaRange[0] <= 0 || lambdaRange[0] <= 0) throw new Error('ClassicSampler: sigma and lambda ranges must be positive');
    if (!(noiseLevel >= 0)) throw new Error(`ClassicSampler: noiseLevel must be >= 0, got ${noiseLevel}`);
  }

  /** Draws the degradation of a batch of `batch` samples from `stream`. */
  sample(stream: RandomStream, batch: number): ClassicDraw {
    const { blur, sigmaRange, lambdaRange, thetaRange, noiseLevel, kernelSize, perSample } = this.options;
    const n = perSample ? batch : 1;
    const shapes: KernelShape[] = [];
    if (blur === 'iso') {
      for (const sigma of stream.uniform(n, sigmaRange[0], sigmaRange[1])) shapes.push({ sigmaX: sigma, sigmaY: sigma, theta: 0 });
    } else {
      const l1 = stream.uniform(n, lambdaRange[0], lambdaRange[1]);
      const l2 = stream.uniform(n, lambdaRange[0], lambdaRange[1]);
      const theta = stream.uniform(n, thetaRange[0], thetaRange[1]);
      for (let i = 0; i < n; i++) shapes.push({ sigmaX: l1[i], sigmaY: l2[i], theta: theta[i] });
    }
    const noiseSigmas = noiseLevel > 0 ? Array.from(stream.uniform(n, 0, 1), (u) => u * noiseLevel) : new Array<number>(n).fill(0);
    return { shapes, kernels: shapes.map((s) => gaussianKernel(s, kernelSize)), noiseSigmas };
  }
}

/** Draws a degradation for the batch from `stream` and applies it (crop, blur, ↓s, noise, quantise). */
export function degradeWithSampler(hr: Tensor, sampler: ClassicSampler, stream: RandomStream, scale: number): ClassicResult & { draw: ClassicDraw } {
  const draw = sampler.sample(stream, hr.shape[0]);
  return { ...degradeClassic(hr, { scale, kernels: draw.kernels, noiseSigma: draw.noiseSigmas }, { stream }), draw };
}
