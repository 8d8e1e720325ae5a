// Per-channel affine map of (B,C,H,W) tensors (KDSR's mean shift).
import { Tensor } from '../tensor';
import { runOp, runOp1 } from './run';
import { checkRank, checkSameDevice, checkSameShape, fail, shapeStr } from './checks';

function checkChannelVector(op: string, x: Tensor, name: string, v: Tensor): void {
  checkRank(op, name, v, 1);
  if (v.shape[0] !== x.shape[1]) fail(op, `${name} ${shapeStr(v.shape)} must have one entry per channel of x ${shapeStr(x.shape)}`);
}

/** y[b,c,h,w] = x[b,c,h,w] * scale[c] + shift[c]. */
export function channelAffine(x: Tensor, scale: Tensor, shift: Tensor): Tensor {
  const op = 'channel_affine';
  checkRank(op, 'x', x, 4);
  checkChannelVector(op, x, 'scale', scale);
  checkChannelVector(op, x, 'shift', shift);
  checkSameDevice(op, { x, scale, shift });
  return runOp1(op, [x, scale, shift]);
}

export interface ChannelAffineGrads {
  dx: Tensor | null;
  dscale: Tensor | null;
  dshift: Tensor | null;
}

/** Gradients of channelAffine; those not asked for (all are by default) are null. */
export function channelAffineBackward(
  dy: Tensor,
  x: Tensor,
  scale: Tensor,
  { needInput = true, needScale = true, needShift = true }: { needInput?: boolean; needScale?: boolean; needShift?: boolean } = {},
): ChannelAffineGrads {
  const op = 'channel_affine_backward';
  checkRank(op, 'x', x, 4);
  checkSameShape(op, 'dy', dy, 'x', x);
  checkChannelVector(op, x, 'scale', scale);
  checkSameDevice(op, { dy, x, scale });
  const [dx, dscale, dshift] = runOp(op, [dy, x, scale], { need_input: needInput, need_scale: needScale, need_shift: needShift });
  return { dx, dscale, dshift };
}
