// Channel concatenation and slicing of (B,C,H,W) tensors.
import { Tensor } from '../tensor';
import { runOp1 } from './run';
import { checkInteger, checkPositiveInt, checkRank, checkSameDevice, fail, shapeStr } from './checks';

/** (B,Ca,H,W) and (B,Cb,H,W) -> (B,Ca+Cb,H,W), a's channels first. */
export function concatChannels(a: Tensor, b: Tensor): Tensor {
  const op = 'concat_channels';
  checkRank(op, 'a', a, 4);
  checkRank(op, 'b', b, 4);
  if (a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[2] || a.shape[3] !== b.shape[3])
    fail(op, `a ${shapeStr(a.shape)} and b ${shapeStr(b.shape)} must agree in every dimension but the channels`);
  checkSameDevice(op, { a, b });
  return runOp1(op, [a, b]);
}

/** Channels [start, start + length) of a (B,C,H,W) tensor. */
export function sliceChannels(x: Tensor, start: number, length: number): Tensor {
  const op = 'slice_channels';
  checkRank(op, 'x', x, 4);
  checkInteger(op, 'start', start, 0);
  checkPositiveInt(op, 'length', length);
  if (start + length > x.shape[1]) fail(op, `channels [${start}, ${start + length}) are not inside the ${x.shape[1]} channels of x ${shapeStr(x.shape)}`);
  return runOp1(op, [x], { start, length });
}

/** Gradient of sliceChannels: dy placed at channel `start` of zeros with `channels` channels. */
export function sliceChannelsBackward(dy: Tensor, start: number, channels: number): Tensor {
  const op = 'slice_channels_backward';
  checkRank(op, 'dy', dy, 4);
  checkInteger(op, 'start', start, 0);
  checkInteger(op, 'channels', channels, 1);
  if (start + dy.shape[1] > channels) fail(op, `channels [${start}, ${start + dy.shape[1]}) of dy ${shapeStr(dy.shape)} do not fit in ${channels} channels`);
  return runOp1(op, [dy], { start, channels });
}
