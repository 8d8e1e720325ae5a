// The channel-blocked layout of the inference-only ops (the planned CPU path): a (B, C, H, W) feature
// map as the tensor (B, ceil(C/b), H, W, b), channel c at [:, c / b, :, :, c % b], lanes past C zero.
// b = 1 is NCHW, b = C is NHWC, 8 and 16 are oneDNN's nChw8c / nChw16c (conv2dBlockSize says which one
// this CPU's convolutions run fastest in). The shape holds b; the channel count comes with the op.
import { Tensor } from '../tensor';
import { runOp1 } from './run';
import { checkPositiveInt, checkRank, fail, shapeStr } from './checks';

/** Checks that x is a blocked tensor holding `channels` channels. */
export function checkBlocked(op: string, name: string, x: Tensor, channels: number): void {
  checkRank(op, name, x, 5);
  const block = x.shape[4];
  if (x.shape[1] !== Math.ceil(channels / block))
    fail(op, `${name} ${shapeStr(x.shape)} does not hold ${channels} channels in blocks of ${block} (expected ${Math.ceil(channels / block)} blocks)`);
}

/** x (B,C,H,W) into blocks of `block` channels: (B, ceil(C/block), H, W, block). Inference only (not differentiable). */
export function toBlocked(x: Tensor, block: number): Tensor {
  checkRank('to_blocked', 'x', x, 4);
  checkPositiveInt('to_blocked', 'block', block);
  return runOp1('to_blocked', [x], { block });
}

/** A blocked tensor holding `channels` channels back to (B, channels, H, W). Inference only. */
export function fromBlocked(x: Tensor, channels: number): Tensor {
  checkPositiveInt('from_blocked', 'channels', channels);
  checkBlocked('from_blocked', 'x', x, channels);
  return runOp1('from_blocked', [x], { channels });
}
