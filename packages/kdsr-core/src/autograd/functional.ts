// Differentiable ops: each runs the engine's kernel (through @kdsr/cuda's validating wrapper) and,
// when recording and some input requires a gradient, attaches a graph node whose rule is in
// grads.ts. Attribute names are the wrappers' camelCase names.
import * as ops from '@kdsr/cuda';
import type { Tensor } from '@kdsr/cuda';
import { record } from './graph';

function apply(op: string, inputs: Array<Tensor | null>, attrs: Record<string, unknown>, output: Tensor): Tensor {
  record(op, inputs, attrs, output);
  return output;
}

export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: ops.Conv2dOptions = {}): Tensor {
  return apply('conv2d', [x, weight, bias], { ...options }, ops.conv2d(x, weight, bias, options));
}

export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return apply('linear', [x, weight, bias], {}, ops.linear(x, weight, bias));
}

/** Per-sample, per-channel k x k convolution; LeakyReLU(negativeSlope) fused on the output when given. */
export function dynDwconv(x: Tensor, kernels: Tensor, options: { padding?: 'zero' | 'reflect'; negativeSlope?: number } = {}): Tensor {
  const attrs = { padding: options.padding ?? 'zero', negativeSlope: options.negativeSlope };
  return apply('dyn_dwconv', [x, kernels], attrs, ops.dynDwconv(x, kernels, attrs));
}

export function leakyRelu(x: Tensor, negativeSlope = 0.1): Tensor {
  return apply('leaky_relu', [x], { negativeSlope }, ops.leakyRelu(x, negativeSlope));
}

/** max(x, 0), recorded as LeakyReLU with slope 0 (the same kernel and gradient). */
export function relu(x: Tensor): Tensor {
  return leakyRelu(x, 0);
}

export function add(a: Tensor, b: Tensor): Tensor {
  return apply('add', [a, b], {}, ops.add(a, b));
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return apply('sub', [a, b], {}, ops.sub(a, b));
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return apply('mul', [a, b], {}, ops.mul(a, b));
}

export function scale(x: Tensor, alpha: number): Tensor {
  return apply('scale', [x], { alpha }, ops.scale(x, alpha));
}

/** alpha * x + y */
export function axpy(x: Tensor, y: Tensor, alpha: number): Tensor {
  return apply('axpy', [x, y], { alpha }, ops.axpy(x, y, alpha));
}

export function concatChannels(a: Tensor, b: Tensor): Tensor {
  return apply('concat_channels', [a, b], {}, ops.concatChannels(a, b));
}

export function sliceChannels(x: Tensor, start: number, length: number): Tensor {
  return apply('slice_channels', [x], { start, length }, ops.sliceChannels(x, start, length));
}

export function pixelShuffle(x: Tensor, factor: number): Tensor {
  return apply('pixel_shuffle', [x], { factor }, ops.pixelShuffle(x, factor));
}

export function pixelUnshuffle(x: Tensor, factor: number): Tensor {
  return apply('pixel_unshuffle', [x], { factor }, ops.pixelUnshuffle(x, factor));
}

export function globalAvgPool(x: Tensor): Tensor {
  return apply('global_avg_pool', [x], {}, ops.globalAvgPool(x));
}

/** Bilinear x2 up-sampling, align_corners = False. */
export function upsampleBilinear2x(x: Tensor): Tensor {
  return apply('upsample_bilinear2x', [x], {}, ops.upsampleBilinear2x(x));
}

/** 2x2 max-pooling, stride 2, floor mode. */
export function maxPool2x2(x: Tensor): Tensor {
  return apply('max_pool2x2', [x], {}, ops.maxPool2x2(x));
}

/**
 * Spectral normalisation of weightOrig with power-iteration state (u, v): training mode runs one
 * iteration. The returned weight carries the gradient (u', v' constant); the caller stores u', v'.
 */
export function spectralNorm(weightOrig: Tensor, u: Tensor, v: Tensor, training: boolean): ops.SpectralNormResult {
  const r = ops.spectralNorm(weightOrig, u, v, { training });
  record('spectral_norm', [weightOrig, u, v], { training, uNew: r.u, vNew: r.v }, r.weight);
  return r;
}

export function channelAffine(x: Tensor, scaleBy: Tensor, shift: Tensor): Tensor {
  return apply('channel_affine', [x, scaleBy, shift], {}, ops.channelAffine(x, scaleBy, shift));
}

/** mean |a - b| over all elements, shape [1]. */
export function l1Loss(a: Tensor, b: Tensor): Tensor {
  return apply('l1_loss', [a, b], {}, ops.l1Loss(a, b));
}

/** KL(softmax(teacher/tau) || softmax(student/tau)) summed over features, over the batch; the teacher is a constant. */
export function kdLoss(student: Tensor, teacher: Tensor, tau: number): Tensor {
  return apply('kd_loss', [student, teacher], { tau }, ops.kdLoss(student, teacher, tau));
}

/** Binary cross-entropy with logits against a constant target (1 real, 0 fake), mean, shape [1]. */
export function bceWithLogits(logits: Tensor, target: number): Tensor {
  return apply('bce_with_logits', [logits], { target }, ops.bceWithLogits(logits, target));
}

export function softmax(x: Tensor): Tensor {
  return apply('softmax', [x], {}, ops.softmax(x));
}

export function logSoftmax(x: Tensor): Tensor {
  return apply('log_softmax', [x], {}, ops.logSoftmax(x));
}

export function reduceSum(x: Tensor, dim?: number): Tensor {
  return apply('reduce_sum', [x], { dim }, ops.reduceSum(x, dim));
}

export function reduceMean(x: Tensor, dim?: number): Tensor {
  return apply('reduce_mean', [x], { dim }, ops.reduceMean(x, dim));
}

export function reduceMax(x: Tensor, dim?: number): Tensor {
  return apply('reduce_max', [x], { dim }, ops.reduceMax(x, dim));
}

export function clamp(x: Tensor, min: number, max: number): Tensor {
  return apply('clamp', [x], { min, max }, ops.clamp(x, min, max));
}

/** y[b,c] = mh · x[b,c] · mwᵀ (resizes, separable filters); mh and mw are constants. */
export function resizeSeparable(x: Tensor, mh: Tensor, mw: Tensor): Tensor {
  return apply('resize_separable', [x, mh, mw], {}, ops.resizeSeparable(x, mh, mw));
}

/** A view of x with another shape (same number of elements). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  return apply('reshape', [x], { shape }, x.reshape(shape));
}
