// The JPEG step of the second-order pipeline: clamp to [0, 1], then the engine's diff_jpeg with a
// continuous quality per sample (drawn from jpeg_range, not rounded).
import { clamp, diffJpeg, Tensor } from '@kdsr/cuda';
import { RandomStream } from '../degradation/random-stream';

/** DiffJPEG of clamp(x, 0, 1) with the given per-sample qualities. */
export function jpegCompress(x: Tensor, quality: readonly number[]): Tensor {
  if (quality.length !== x.shape[0]) throw new Error(`jpegCompress: ${quality.length} qualities for a batch of ${x.shape[0]}`);
  const clamped = clamp(x, 0, 1);
  const q = Tensor.fromArray(Float64Array.from(quality), [quality.length], { dtype: x.dtype, device: x.device });
  try {
    return diffJpeg(clamped, q).y;
  } finally {
    clamped.dispose();
    q.dispose();
  }
}

/** Qualities ~ U(range) per sample, then jpegCompress. */
export function randomJpeg(x: Tensor, range: readonly [number, number], stream: RandomStream): { output: Tensor; quality: number[] } {
  const quality = Array.from(stream.uniform(x.shape[0], range[0], range[1]));
  return { output: jpegCompress(x, quality), quality };
}
