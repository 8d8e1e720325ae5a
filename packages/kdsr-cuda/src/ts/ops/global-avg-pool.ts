// Global average pooling (B,C,H,W) -> (B,C).
import { Tensor } from '../tensor';
import { runOp1 } from './run';
import { checkPositiveInt, checkRank, fail, shapeStr } from './checks';

/** Mean over rows and columns: (B,C,H,W) -> (B,C). */
export function globalAvgPool(x: Tensor): Tensor {
  checkRank('global_avg_pool', 'x', x, 4);
  if (x.shape[2] * x.shape[3] === 0) fail('global_avg_pool', `x ${shapeStr(x.shape)} has no pixels to average`);
  return runOp1('global_avg_pool', [x]);
}

/** Gradient of globalAvgPool: dx[b,c,h,w] = dy[b,c] / (height * width). */
export function globalAvgPoolBackward(dy: Tensor, height: number, width: number): Tensor {
  const op = 'global_avg_pool_backward';
  checkRank(op, 'dy', dy, 2);
  checkPositiveInt(op, 'height', height);
  checkPositiveInt(op, 'width', width);
  return runOp1(op, [dy], { height, width });
}
