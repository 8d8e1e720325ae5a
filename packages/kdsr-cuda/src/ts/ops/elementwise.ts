// Elementwise arithmetic on tensors of one shape (gradients are composites, see op-table.json).
import { Tensor } from '../tensor';
import { runOp1 } from './run';
import { checkFinite, checkSameDevice, checkSameShape } from './checks';

function binary(op: string, aName: string, a: Tensor, bName: string, b: Tensor, attrs: Record<string, number> = {}): Tensor {
  checkSameShape(op, aName, a, bName, b);
  checkSameDevice(op, { [aName]: a, [bName]: b });
  return runOp1(op, [a, b], attrs);
}

/** a + b. */
export function add(a: Tensor, b: Tensor): Tensor {
  return binary('add', 'a', a, 'b', b);
}

/** a - b. */
export function sub(a: Tensor, b: Tensor): Tensor {
  return binary('sub', 'a', a, 'b', b);
}

/** a * b, elementwise. */
export function mul(a: Tensor, b: Tensor): Tensor {
  return binary('mul', 'a', a, 'b', b);
}

/** alpha * x. */
export function scale(x: Tensor, alpha: number): Tensor {
  checkFinite('scale', 'alpha', alpha);
  return runOp1('scale', [x], { alpha });
}

/** alpha * x + y. */
export function axpy(x: Tensor, y: Tensor, alpha: number): Tensor {
  checkFinite('axpy', 'alpha', alpha);
  return binary('axpy', 'x', x, 'y', y, { alpha });
}
