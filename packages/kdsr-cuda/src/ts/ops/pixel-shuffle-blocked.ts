// Sub-pixel upsampling on channel-blocked activations (blocked-layout.ts), for the planned CPU inference
// path's upsampler; not differentiable.
import { Tensor } from '../tensor';
import { runOp1 } from './run';
import { checkBlocked } from './blocked-layout';
import { checkPositiveInt } from './checks';

/** pixelShuffle of a blocked x holding channels * factor² channels; y holds `channels` channels in blocks of `block`. */
export function pixelShuffleBlocked(x: Tensor, factor: number, options: { channels: number; block: number }): Tensor {
  const op = 'pixel_shuffle_blocked';
  checkPositiveInt(op, 'factor', factor);
  checkPositiveInt(op, 'channels', options.channels);
  checkPositiveInt(op, 'block', options.block);
  checkBlocked(op, 'x', x, options.channels * factor * factor);
  return runOp1(op, [x], { factor, channels: options.channels, block: options.block });
}
