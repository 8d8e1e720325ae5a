// Tensors created from attributes alone: constants.
import { DType } from '../binding';
import { Tensor } from '../tensor';
import { runOp1 } from './run';
import { checkShape, fail } from './checks';

export interface CreateOptions {
  device?: string;
  dtype?: DType;
}

/** A new tensor of `shape` holding `value` everywhere (float32 on the CPU by default). */
export function fill(shape: readonly number[], value: number, { device = 'cpu', dtype = 'float32' }: CreateOptions = {}): Tensor {
  checkShape('fill', 'shape', shape);
  if (typeof value !== 'number') fail('fill', `value must be a number, got ${typeof value}`);
  return runOp1('fill', [], { shape: [...shape], value, device, dtype });
}
