// Fully connected layer: y = x W^T + b.
import { Tensor } from '../tensor';
import { runOp, runOp1 } from './run';
import { checkRank, checkSameDevice, fail, shapeStr } from './checks';

export interface LinearBackwardOptions {
  needInput?: boolean;
  needWeight?: boolean;
  needBias?: boolean;
}

export interface LinearGradients {
  dx: Tensor | null;
  dweight: Tensor | null;
  dbias: Tensor | null;
}

function checkArgs(op: string, x: Tensor, weight: Tensor): void {
  checkRank(op, 'x', x, 2);
  checkRank(op, 'weight', weight, 2);
  if (x.shape[1] !== weight.shape[1]) fail(op, `x has ${x.shape[1]} features but weight ${shapeStr(weight.shape)} expects ${weight.shape[1]}`);
}

/** y = x W^T + b; x (N,in), weight (out,in), bias (out) or null. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  const op = 'linear';
  checkArgs(op, x, weight);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== weight.shape[0]))
    fail(op, `bias must have shape [${weight.shape[0]}], got ${shapeStr(bias.shape)}`);
  checkSameDevice(op, { x, weight, bias });
  return runOp1(op, [x, weight, bias], {});
}

/** Gradients of linear with upstream gradient dy (N,out); those not asked for are null. */
export function linearBackward(dy: Tensor, x: Tensor, weight: Tensor, options: LinearBackwardOptions = {}): LinearGradients {
  const op = 'linear_backward';
  checkArgs(op, x, weight);
  checkRank(op, 'dy', dy, 2);
  if (dy.shape[0] !== x.shape[0] || dy.shape[1] !== weight.shape[0])
    fail(op, `dy must have shape [${x.shape[0]},${weight.shape[0]}], got ${shapeStr(dy.shape)}`);
  checkSameDevice(op, { dy, x, weight });
  const [dx, dweight, dbias] = runOp(op, [dy, x, weight], {
    need_input: options.needInput ?? true,
    need_weight: options.needWeight ?? true,
    need_bias: options.needBias ?? true,
  });
  return { dx, dweight, dbias };
}
