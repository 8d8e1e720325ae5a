// 2-D convolution (cross-correlation), square kernels; by default stride 1 and zero padding k//2
// (odd k, the output as large as the input); stride and padding as options (e.g. the discriminator's
// 4x4, stride 2, padding 1).
import { Tensor } from '../tensor';
import { runOp, runOp1 } from './run';
import { checkRank, checkSameDevice, fail, shapeStr } from './checks';

export interface Conv2dOptions {
  /** Step between output positions (default 1). */
  stride?: number;
  /** Zero padding on every side (default k//2, which needs an odd k). */
  padding?: number;
}

export interface Conv2dBackwardOptions extends Conv2dOptions {
  needInput?: boolean;
  needWeight?: boolean;
  needBias?: boolean;
}

export interface Conv2dGradients {
  dx: Tensor | null;
  dweight: Tensor | null;
  dbias: Tensor | null;
}

/** Checks the arguments; returns the native attributes and the output's height and width. */
function checkArgs(op: string, x: Tensor, weight: Tensor, options: Conv2dOptions): { attrs: { stride: number; padding: number }; oh: number; ow: number } {
  checkRank(op, 'x', x, 4);
  checkRank(op, 'weight', weight, 4);
  const [cout, cin, kh, kw] = weight.shape;
  if (x.shape[1] !== cin) fail(op, `x has ${x.shape[1]} channels but weight ${shapeStr(weight.shape)} expects ${cin}`);
  if (options.padding === undefined) {
    if (kh !== kw || kh % 2 !== 1) fail(op, `weight must hold square kernels of odd size, got ${kh}x${kw}`);
  } else if (kh !== kw) fail(op, `weight must hold square kernels, got ${kh}x${kw}`);
  if (cout < 1) fail(op, `weight must have at least one output channel, got shape ${shapeStr(weight.shape)}`);
  const stride = options.stride ?? 1;
  const padding = options.padding ?? (kh - 1) / 2;
  if (!Number.isInteger(stride) || stride < 1) fail(op, `stride must be a positive integer, got ${stride}`);
  if (!Number.isInteger(padding) || padding < 0 || padding >= kh) fail(op, `padding must be an integer in [0, ${kh - 1}], got ${padding}`);
  const [h, w] = [x.shape[2] + 2 * padding - kh, x.shape[3] + 2 * padding - kh];
  if (h < 0 || w < 0) fail(op, `x ${shapeStr(x.shape)} is smaller than the ${kh}x${kh} kernel with padding ${padding}`);
  return { attrs: { stride, padding }, oh: Math.floor(h / stride) + 1, ow: Math.floor(w / stride) + 1 };
}

/**
 * y[b,o] = bias[o] + sum_i weight[o,i] (*) x[b,i]; x (B,Cin,H,W), weight (Cout,Cin,k,k), bias (Cout) or
 * null; y (B,Cout,OH,OW) with OH = floor((H + 2 padding - k) / stride) + 1.
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  const { attrs } = checkArgs(op, x, weight, options);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== weight.shape[0]))
    fail(op, `bias must have shape [${weight.shape[0]}], got ${shapeStr(bias.shape)}`);
  checkSameDevice(op, { x, weight, bias });
  return runOp1(op, [x, weight, bias], attrs);
}

/** Gradients of conv2d (same stride and padding) with upstream gradient dy (B,Cout,OH,OW); those not asked for are null. */
export function conv2dBackward(dy: Tensor, x: Tensor, weight: Tensor, options: Conv2dBackwardOptions = {}): Conv2dGradients {
  const op = 'conv2d_backward';
  const { attrs, oh, ow } = checkArgs(op, x, weight, options);
  checkRank(op, 'dy', dy, 4);
  const expected = [x.shape[0], weight.shape[0], oh, ow];
  if (dy.shape.some((d, i) => d !== expected[i])) fail(op, `dy must have shape ${shapeStr(expected)}, got ${shapeStr(dy.shape)}`);
  checkSameDevice(op, { dy, x, weight });
  const [dx, dweight, dbias] = runOp(op, [dy, x, weight], {
    ...attrs,
    need_input: options.needInput ?? true,
    need_weight: options.needWeight ?? true,
    need_bias: options.needBias ?? true,
  });
  return { dx, dweight, dbias };
}
