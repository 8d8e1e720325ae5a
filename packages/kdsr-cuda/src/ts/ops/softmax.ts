// softmax and log-softmax over the last dimension.
import { Tensor } from '../tensor';
import { runOp1 } from './run';
import { checkSameDevice, checkSameShape, fail, shapeStr } from './checks';

function checkRows(op: string, name: string, x: Tensor): void {
  if (x.rank < 1 || x.shape[x.rank - 1] < 1) fail(op, `${name} ${shapeStr(x.shape)} needs a non-empty last dimension`);
}

function backward(op: string, dy: Tensor, y: Tensor): Tensor {
  checkRows(op, 'y', y);
  checkSameShape(op, 'dy', dy, 'y', y);
  checkSameDevice(op, { dy, y });
  return runOp1(op, [dy, y]);
}

/** softmax over the last dimension. */
export function softmax(x: Tensor): Tensor {
  checkRows('softmax', 'x', x);
  return runOp1('softmax', [x]);
}

/** Gradient of softmax from its output y: dx = y * (dy - sum(dy * y)). */
export function softmaxBackward(dy: Tensor, y: Tensor): Tensor {
  return backward('softmax_backward', dy, y);
}

/** log-softmax over the last dimension. */
export function logSoftmax(x: Tensor): Tensor {
  checkRows('log_softmax', 'x', x);
  return runOp1('log_softmax', [x]);
}

/** Gradient of logSoftmax from its output y: dx = dy - exp(y) * sum(dy). */
export function logSoftmaxBackward(dy: Tensor, y: Tensor): Tensor {
  return backward('log_softmax_backward', dy, y);
}
