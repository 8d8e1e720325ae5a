// The classic degradation y = (x ⊗ k)↓s + n of KDSR-classic (spec 1.1): crop to a multiple of s,
// blur (reflect padding), KDSR bicubic ↓s, Gaussian noise, quantise to 8 bits.
import { add, channelAffine, quantize, scale as scaleOp, Tensor, tidy } from '@kdsr/cuda';
import { blur } from './blur';
import { Kernel } from './kernels';
import { RandomStream } from './random-stream';
import { bicubicKdsr, cropTensor, imresize } from './resize';

export interface ClassicParams {
  /** Integer downscaling factor s. */
  scale: number;
  /** One blur kernel for the batch, one per sample, or null for no blur (isotropic σ = 0). */
  kernels: Kernel | readonly Kernel[] | null;
  /** Noise standard deviation in 0..255 units: one for the batch or one per sample (0 = none). */
  noiseSigma?: number | readonly number[];
  /**
   * Downsampler: 'kdsr' (default; KDSR-classic's bicubic, replicated borders) or 'matlab' (MATLAB
   * imresize / BasicSR, symmetric borders). Both are the antialiased Keys cubic; they differ only in
   * the first and last two LR pixels of each row and column.
   */
  resize?: 'kdsr' | 'matlab';
}

export interface ClassicOptions {
  /** Source of the N(0,1) noise field (required when there is noise and `normal` is absent). */
  stream?: RandomStream;
  /** An explicit N(0,1) field of the LR shape (tests and replays). */
  normal?: Tensor;
  /** Also return the bicubic ×s upscaling of the unquantised LR (quantised and not). */
  withUpsampled?: boolean;
}

export interface ClassicResult {
  /** The HR cropped to a multiple of the scale (the target). */
  hr: Tensor;
  /** The LR, quantised to 8-bit levels. */
  lr: Tensor;
  /** The LR before quantisation. */
  lrPrequant: Tensor;
  hrBlurredPrequant?: Tensor;
  hrBlurred?: Tensor;
}

function noiseSigmas(params: ClassicParams, batch: number): number[] {
  const s = params.noiseSigma ?? 0;
  const list = typeof s === 'number' ? [s] : [...s];
  if (list.length !== 1 && list.length !== batch) throw new Error(`degradeClassic: got ${list.length} noise levels for a batch of ${batch}`);
  if (list.some((v) => !(v >= 0))) throw new Error(`degradeClassic: noise levels must be >= 0, got ${list.join(', ')}`);
  return list;
}

/** Adds sigma_b/255 · normal to every sample b (one sigma for all or one per sample). */
function addNoise(lr: Tensor, normal: Tensor, sigmas: number[]): Tensor {
  if (sigmas.length === 1) return add(lr, scaleOp(normal, sigmas[0] / 255));
  // Per-sample scale: view (B, C, h, w) as (1, B, C·h, w) so channel_affine's per-channel scale is per sample.
  const [b, c, h, w] = normal.shape;
  const view = normal.reshape([1, b, c * h, w]);
  const s = Tensor.fromArray(Float64Array.from(sigmas, (v) => v / 255), [b], { dtype: normal.dtype, device: normal.device });
  const zero = Tensor.fromArray(new Float64Array(b), [b], { dtype: normal.dtype, device: normal.device });
  return add(lr, channelAffine(view, s, zero).reshape([b, c, h, w]));
}

/** Synthesises the LR of an HR batch (B, 3, H, W) in [0, 1]. */
export function degradeClassic(hrIn: Tensor, params: ClassicParams, options: ClassicOptions = {}): ClassicResult {
  if (hrIn.rank !== 4) throw new Error(`degradeClassic: expected a (B,C,H,W) batch, got shape [${hrIn.shape.join(',')}]`);
  const s = params.scale;
  if (!Number.isInteger(s) || s < 1) throw new Error(`degradeClassic: scale must be a positive integer, got ${s}`);
  const [batch, , h0, w0] = hrIn.shape;
  const sigmas = noiseSigmas(params, batch);
  return tidy(() => {
    const hr = cropTensor(hrIn, 0, 0, h0 - (h0 % s), w0 - (w0 % s));
    const blurred = params.kernels ? blur(hr, params.kernels) : hr;
    const resize = params.resize ?? 'kdsr';
    if (resize !== 'kdsr' && resize !== 'matlab') throw new Error(`degradeClassic: resize must be 'kdsr' or 'matlab', got '${String(resize)}'`);
    const down = (t: Tensor, factor: number) => (resize === 'kdsr' ? bicubicKdsr(t, factor) : imresize(t, factor));
    let lrPrequant = down(blurred, 1 / s);
    if (sigmas.some((v) => v > 0)) {
      let normal = options.normal;
      if (normal) {
        if (normal.shape.join(',') !== lrPrequant.shape.join(','))
          throw new Error(`degradeClassic: normal [${normal.shape.join(',')}] must have the LR shape [${lrPrequant.shape.join(',')}]`);
      } else {
        if (!options.stream) throw new Error('degradeClassic: noise needs a RandomStream (options.stream) or an explicit normal field');
        normal = options.stream.normal(lrPrequant.shape, { dtype: lrPrequant.dtype, device: lrPrequant.device });
      }
      lrPrequant = addNoise(lrPrequant, normal, sigmas);
    }
    const result: ClassicResult = { hr, lr: quantize(lrPrequant, 255), lrPrequant };
    if (options.withUpsampled) {
      result.hrBlurredPrequant = down(lrPrequant, s);
      result.hrBlurred = quantize(result.hrBlurredPrequant, 255);
    }
    return result;
  });
}
