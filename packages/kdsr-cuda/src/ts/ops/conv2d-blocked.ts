// Convolution on channel-blocked activations (blocked-layout.ts) with LeakyReLU and a residual add
// fused, for the planned CPU inference path; not differentiable.
import { Tensor } from '../tensor';
import { runOp1 } from './run';
import { checkBlocked } from './blocked-layout';
import { checkPositiveInt, checkRank, checkSameDevice, fail, shapeStr } from './checks';

export interface Conv2dBlockedOptions {
  /** The output's channel block (the channel count for NHWC). */
  block: number;
  /** When given, LeakyReLU with this negative slope on conv + bias (not with a residual). */
  negativeSlope?: number;
  /** Added to conv + bias; its memory receives the result (it is overwritten and returned). */
  residual?: Tensor | null;
}

/**
 * y = LeakyReLU(conv(x, weight) + bias) or conv(x, weight) + bias + residual: stride 1, zero padding k//2, odd k; x blocked
 * with weight's Cin channels, weight (Cout,Cin,k,k), bias (Cout) or null; y blocked by options.block.
 */
export function conv2dBlocked(x: Tensor, weight: Tensor, bias: Tensor | null, options: Conv2dBlockedOptions): Tensor {
  const op = 'conv2d_blocked';
  checkRank(op, 'weight', weight, 4);
  const [cout, cin, kh, kw] = weight.shape;
  if (kh !== kw || kh % 2 !== 1) fail(op, `weight must hold square kernels of odd size, got ${kh}x${kw}`);
  checkBlocked(op, 'x', x, cin);
  checkPositiveInt(op, 'block', options.block);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== cout)) fail(op, `bias must have shape [${cout}], got ${shapeStr(bias.shape)}`);
  const expected = [x.shape[0], Math.ceil(cout / options.block), x.shape[2], x.shape[3], options.block];
  const residual = options.residual ?? null;
  if (residual && residual.shape.some((d, i) => d !== expected[i])) fail(op, `residual must have the output's shape ${shapeStr(expected)}, got ${shapeStr(residual.shape)}`);
  const slope = options.negativeSlope;
  if (slope !== undefined && !Number.isFinite(slope)) fail(op, `negativeSlope must be a finite number, got ${slope}`);
  if (slope !== undefined && residual) fail(op, 'negativeSlope and residual cannot both be given (LeakyReLU, or a residual add)');
  checkSameDevice(op, { x, weight, bias, residual });
  return runOp1(op, [x, weight, bias, residual], { block: options.block, negative_slope: slope });
}

/**
 * The channel block of the activation layout conv2dBlocked runs fastest in on this CPU for this
 * weight's shape: 0 for NHWC (one block of all channels), 8 or 16 (oneDNN's blocked layouts), 1 for NCHW.
 */
export function conv2dBlockSize(weight: Tensor): number {
  checkRank('conv2d_block_size', 'weight', weight, 4);
  const answer = runOp1('conv2d_block_size', [weight]);
  const [block] = answer.toArray();
  answer.dispose();
  return block;
}
