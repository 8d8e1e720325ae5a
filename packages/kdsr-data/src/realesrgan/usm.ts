// Unsharp masking of the GT (BasicSR USMSharp, spec 2.7): a 51x51 Gaussian (σ 8, OpenCV's default
// for that size) blur with reflect padding; pixels whose residual exceeds threshold/255 are
// sharpened by weight·residual, blended through the blurred mask. The Gaussian is separable, so
// both blurs are two 1-D passes (resize_separable with the reflect border folded in).
import { Tensor } from '@kdsr/cuda';
import { separableReflectFilter } from '../degradation/resize';

/** cv2.getGaussianKernel(size, 0): σ = 0.3·((size - 1)/2 - 1) + 0.8, normalised. */
export function opencvGaussian1d(size: number): Float64Array {
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) throw new Error(`opencvGaussian1d: size must be odd, got ${size}`);
  const sigma = 0.3 * ((size - 1) / 2 - 1) + 0.8;
  const c = (size - 1) / 2;
  const k = Float64Array.from({ length: size }, (_, i) => Math.exp(-((i - c) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
}

export interface UsmOptions {
  /** Default 0.5. */
  weight?: number;
  /** Kernel radius; an even value is rounded up to the next odd size (default 50 -> 51). */
  radius?: number;
  /** In 0..255 units (default 10). */
  threshold?: number;
}

export interface UsmResult {
  output: Tensor;
  blur: Tensor;
  mask: Tensor;
  softMask: Tensor;
}

/** USM sharpening of a (B, C, H, W) batch (H, W above the kernel radius). */
export function usmSharpDetailed(img: Tensor, options: UsmOptions = {}): UsmResult {
  const weight = options.weight ?? 0.5;
  const threshold = options.threshold ?? 10;
  let size = options.radius ?? 50;
  if (size % 2 === 0) size += 1;
  const taps = opencvGaussian1d(size);
  const blur = separableReflectFilter(img, taps, `opencv-gauss-${size}`);
  const iv = img.toArray();
  const bv = blur.toArray();
  const mask = new Float64Array(iv.length);
  for (let i = 0; i < iv.length; i++) mask[i] = Math.abs(iv[i] - bv[i]) * 255 > threshold ? 1 : 0;
  const maskTensor = Tensor.fromArray(mask, img.shape, { dtype: img.dtype, device: img.device });
  const softMask = separableReflectFilter(maskTensor, taps, `opencv-gauss-${size}`);
  const sv = softMask.toArray();
  const out = new Float64Array(iv.length);
  for (let i = 0; i < iv.length; i++) {
    const sharp = Math.min(Math.max(iv[i] + weight * (iv[i] - bv[i]), 0), 1);
    out[i] = sv[i] * sharp + (1 - sv[i]) * iv[i];
  }
  return { output: Tensor.fromArray(out, img.shape, { dtype: img.dtype, device: img.device }), blur, mask: maskTensor, softMask };
}

/** The sharpened batch alone. */
export function usmSharp(img: Tensor, options: UsmOptions = {}): Tensor {
  const r = usmSharpDetailed(img, options);
  r.blur.dispose();
  r.mask.dispose();
  r.softMask.dispose();
  return r.output;
}
