import { Tensor } from '../tensor';
import { runOp } from './run';
import { checkRank, checkSameDevice, fail, shapeStr } from './checks';

export interface DiffJpegResult {
  y: Tensor;
  /** Quantised coefficients (B, blocks, 8, 8) when asked for: Y of the padded plane, Cb and Cr at half size. */
  coefY: Tensor | null;
  coefCb: Tensor | null;
  coefCr: Tensor | null;
}

/**
 * JPEG compression and decompression as BasicSR's DiffJPEG (the Real-ESRGAN degradation): x (B,3,H,W)
 * RGB in [0,1], one continuous quality in (0,100] per sample. The output is clamped, not rounded.
 */
export function diffJpeg(x: Tensor, quality: Tensor, options: { needCoefficients?: boolean } = {}): DiffJpegResult {
  const op = 'diff_jpeg';
  checkRank(op, 'x', x, 4);
  checkRank(op, 'quality', quality, 1);
  if (x.shape[1] !== 3) fail(op, `x must have 3 channels (RGB), got ${shapeStr(x.shape)}`);
  if (quality.shape[0] !== x.shape[0]) fail(op, `quality ${shapeStr(quality.shape)} must hold one value per sample of x ${shapeStr(x.shape)}`);
  checkSameDevice(op, { x, quality });
  const [y, coefY, coefCb, coefCr] = runOp(op, [x, quality], { need_coefficients: options.needCoefficients ?? false });
  return { y: y!, coefY, coefCb, coefCr };
}
