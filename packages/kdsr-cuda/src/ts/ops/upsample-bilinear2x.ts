// Bilinear x2 up-sampling (align_corners = False), as in the U-Net discriminator's decoder.
import { Tensor } from '../tensor';
import { runOp1 } from './run';
import { checkRank, fail, shapeStr } from './checks';

/** (B,C,H,W) -> (B,C,2H,2W), PyTorch's F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False). */
export function upsampleBilinear2x(x: Tensor): Tensor {
  checkRank('upsample_bilinear2x', 'x', x, 4);
  return runOp1('upsample_bilinear2x', [x]);
}

/** Gradient of upsampleBilinear2x: dy (B,C,2H,2W) -> dx (B,C,H,W). */
export function upsampleBilinear2xBackward(dy: Tensor): Tensor {
  const op = 'upsample_bilinear2x_backward';
  checkRank(op, 'dy', dy, 4);
  if (dy.shape[2] % 2 !== 0 || dy.shape[3] % 2 !== 0) fail(op, `dy must have even height and width, got ${shapeStr(dy.shape)}`);
  return runOp1(op, [dy]);
}
