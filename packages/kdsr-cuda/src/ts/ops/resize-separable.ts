import { Tensor } from '../tensor';
import { runOp1 } from './run';
import { checkRank, checkSameDevice, fail, shapeStr } from './checks';

/**
 * y[b,c] = mh · x[b,c] · mwᵀ for every plane: x (B,C,H,W), mh (Ho,H), mw (Wo,W) -> (B,C,Ho,Wo).
 * Resizes and separable filters, with their border handling folded into the matrices.
 * Its gradient is resizeSeparable(dy, mhᵀ, mwᵀ).
 */
export function resizeSeparable(x: Tensor, mh: Tensor, mw: Tensor): Tensor {
  const op = 'resize_separable';
  checkRank(op, 'x', x, 4);
  checkRank(op, 'mh', mh, 2);
  checkRank(op, 'mw', mw, 2);
  if (mh.shape[1] !== x.shape[2]) fail(op, `mh ${shapeStr(mh.shape)} must have ${x.shape[2]} columns (the height of x ${shapeStr(x.shape)})`);
  if (mw.shape[1] !== x.shape[3]) fail(op, `mw ${shapeStr(mw.shape)} must have ${x.shape[3]} columns (the width of x ${shapeStr(x.shape)})`);
  checkSameDevice(op, { x, mh, mw });
  return runOp1(op, [x, mh, mw]);
}
