// 2x2 max-pooling, stride 2 (VGG's pools).
import { Tensor } from '../tensor';
import { runOp1 } from './run';
import { checkRank, checkSameDevice, fail, shapeStr } from './checks';

function checkInput(op: string, x: Tensor): void {
  checkRank(op, 'x', x, 4);
  if (x.shape[2] < 2 || x.shape[3] < 2) fail(op, `x must be at least 2x2, got ${shapeStr(x.shape)}`);
}

/** Maximum of each 2x2 window, stride 2, floor mode: (B,C,H,W) -> (B,C,H//2,W//2). */
export function maxPool2x2(x: Tensor): Tensor {
  checkInput('max_pool2x2', x);
  return runOp1('max_pool2x2', [x]);
}

/** Gradient of maxPool2x2: dy goes to each window's maximum (the first on a tie), 0 elsewhere. */
export function maxPool2x2Backward(dy: Tensor, x: Tensor): Tensor {
  const op = 'max_pool2x2_backward';
  checkInput(op, x);
  const expected = [x.shape[0], x.shape[1], Math.floor(x.shape[2] / 2), Math.floor(x.shape[3] / 2)];
  if (dy.rank !== 4 || dy.shape.some((d, i) => d !== expected[i])) fail(op, `dy must have shape ${shapeStr(expected)}, got ${shapeStr(dy.shape)}`);
  checkSameDevice(op, { dy, x });
  return runOp1(op, [dy, x]);
}
