// Sub-pixel rearrangements (each is the other's inverse and gradient).
import { Tensor } from '../tensor';
import { runOp1 } from './run';
import { checkPositiveInt, checkRank, fail, shapeStr } from './checks';

/** (B, C*r*r, H, W) -> (B, C, H*r, W*r): y[b,c,Y*r+i,X*r+j] = x[b,c*r*r+i*r+j,Y,X]. */
export function pixelShuffle(x: Tensor, factor: number): Tensor {
  const op = 'pixel_shuffle';
  checkRank(op, 'x', x, 4);
  checkPositiveInt(op, 'factor', factor);
  if (x.shape[1] % (factor * factor) !== 0) fail(op, `the channels of x ${shapeStr(x.shape)} must be a multiple of factor^2 = ${factor * factor}`);
  return runOp1(op, [x], { factor });
}

/** (B, C, H*r, W*r) -> (B, C*r*r, H, W), the inverse of pixelShuffle. */
export function pixelUnshuffle(x: Tensor, factor: number): Tensor {
  const op = 'pixel_unshuffle';
  checkRank(op, 'x', x, 4);
  checkPositiveInt(op, 'factor', factor);
  if (x.shape[2] % factor !== 0 || x.shape[3] % factor !== 0) fail(op, `the height and width of x ${shapeStr(x.shape)} must be multiples of the factor ${factor}`);
  return runOp1(op, [x], { factor });
}
