// 2-D convolution (cross-correlation), stride 1, zero padding k//2, odd square kernels.
import { Tensor } from '../tensor';
import { runOp, runOp1 } from './run';
import { checkRank, checkSameDevice, fail, shapeStr } from './checks';

export interface Conv2dBackwardOptions {
  needInput?: boolean;
  needWeight?: boolean;
  needBias?: boolean;
}

export interface Conv2dGradients {
  dx: Tensor | null;
  dweight: Tensor | null;
  dbias: Tensor | null;
}

function checkArgs(op: string, x: Tensor, weight: Tensor): void {
  checkRank(op, 'x', x, 4);
  checkRank(op, 'weight', weight, 4);
  const [cout, cin, kh, kw] = weight.shape;
  if (x.shape[1] !== cin) fail(op, `x has ${x.shape[1]} channels but weight ${shapeStr(weight.shape)} expects ${cin}`);
  if (kh !== kw || kh % 2 !== 1) fail(op, `weight must hold square kernels of odd size, got ${kh}x${kw}`);
  if (cout < 1) fail(op, `weight must have at least one output channel, got shape ${shapeStr(weight.shape)}`);
}

/** y[b,o] = bias[o] + sum_i weight[o,i] (*) x[b,i]; x (B,Cin,H,W), weight (Cout,Cin,k,k), bias (Cout) or null. */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  const op = 'conv2d';
  checkArgs(op, x, weight);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== weight.shape[0]))
    fail(op, `bias must have shape [${weight.shape[0]}], got ${shapeStr(bias.shape)}`);
  checkSameDevice(op, { x, weight, bias });
  return runOp1(op, [x, weight, bias], {});
}

/** Gradients of conv2d with upstream gradient dy (B,Cout,H,W); those not asked for are null. */
export function conv2dBackward(dy: Tensor, x: Tensor, weight: Tensor, options: Conv2dBackwardOptions = {}): Conv2dGradients {
  const op = 'conv2d_backward';
  checkArgs(op, x, weight);
  checkRank(op, 'dy', dy, 4);
  const expected = [x.shape[0], weight.shape[0], x.shape[2], x.shape[3]];
  if (dy.shape.some((d, i) => d !== expected[i])) fail(op, `dy must have shape ${shapeStr(expected)}, got ${shapeStr(dy.shape)}`);
  checkSameDevice(op, { dy, x, weight });
  const [dx, dweight, dbias] = runOp(op, [dy, x, weight], {
    need_input: options.needInput ?? true,
    need_weight: options.needWeight ?? true,
    need_bias: options.needBias ?? true,
  });
  return { dx, dweight, dbias };
}
