// Sum, mean and maximum over one dimension or over all elements, with their backward kernels.
import { Tensor } from '../tensor';
import { runOp1 } from './run';
import { checkFinite, checkInteger, checkSameDevice, checkSameShape, checkShape, fail, shapeStr } from './checks';

/**
 * The shape of a reduction of `shape`: `dim` (negative counts from the end) removed, or [1] when
 * dim is absent or the result would have no dimensions.
 */
function reducedShape(op: string, shape: readonly number[], dim?: number): number[] {
  let out: number[];
  if (dim === undefined) {
    out = [1];
  } else {
    checkInteger(op, 'dim', dim);
    if (dim < -shape.length || dim >= shape.length) fail(op, `dim ${dim} is out of range for shape ${shapeStr(shape)}`);
    const d = dim < 0 ? dim + shape.length : dim;
    out = shape.filter((_, i) => i !== d);
    if (out.length === 0) out = [1];
  }
  const extent = dim === undefined ? shape.reduce((a, b) => a * b, 1) : shape[dim < 0 ? dim + shape.length : dim];
  if (extent < 1) fail(op, `cannot reduce an empty extent of shape ${shapeStr(shape)}`);
  return out;
}

function reduce(op: string, x: Tensor, dim?: number): Tensor {
  reducedShape(op, x.shape, dim);
  return runOp1(op, [x], { dim });
}

/** Sum over `dim` (removed), or over all elements to shape [1]. */
export function reduceSum(x: Tensor, dim?: number): Tensor {
  return reduce('reduce_sum', x, dim);
}

/** Mean over `dim` (removed), or over all elements to shape [1]. */
export function reduceMean(x: Tensor, dim?: number): Tensor {
  return reduce('reduce_mean', x, dim);
}

/** Maximum over `dim` (removed), or over all elements to shape [1]; a NaN is the maximum. */
export function reduceMax(x: Tensor, dim?: number): Tensor {
  return reduce('reduce_max', x, dim);
}

/**
 * Gradient of reduceSum (alpha 1) and reduceMean (alpha 1/n): alpha * dy broadcast back over the
 * reduced dimension(s) to `shape`, the input's shape.
 */
export function reduceBackward(dy: Tensor, shape: readonly number[], { dim, alpha = 1 }: { dim?: number; alpha?: number } = {}): Tensor {
  const op = 'reduce_backward';
  checkShape(op, 'shape', shape);
  checkFinite(op, 'alpha', alpha);
  const expected = reducedShape(op, shape, dim);
  if (dy.shape.length !== expected.length || dy.shape.some((d, i) => d !== expected[i]))
    fail(op, `dy ${shapeStr(dy.shape)} must have the reduced shape ${shapeStr(expected)}`);
  return runOp1(op, [dy], { shape: [...shape], dim, alpha });
}

/** Gradient of reduceMax: dy routed to the first position of each maximum (y is reduceMax's output). */
export function reduceMaxBackward(dy: Tensor, x: Tensor, y: Tensor, dim?: number): Tensor {
  const op = 'reduce_max_backward';
  const expected = reducedShape(op, x.shape, dim);
  if (y.shape.length !== expected.length || y.shape.some((d, i) => d !== expected[i]))
    fail(op, `y ${shapeStr(y.shape)} must have the reduced shape ${shapeStr(expected)} of x ${shapeStr(x.shape)}`);
  checkSameShape(op, 'dy', dy, 'y', y);
  checkSameDevice(op, { dy, x, y });
  return runOp1(op, [dy, x, y], { dim });
}
