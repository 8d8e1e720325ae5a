// Counter-based random tensors (Philox4x32-10; the stream is defined in op-table.json). A draw is
// a pure function of (seed, offset, shape): the same arguments give the same values on any device,
// and a caller continues a stream by advancing offset by randomStreamBlocks(size).
import { Tensor } from '../tensor';
import { CreateOptions } from './fill';
import { runOp1 } from './run';
import { checkFinite, checkShape, fail } from './checks';

export interface RandomOptions extends CreateOptions {
  /** Integer in [0, 2^53): the Philox key. */
  seed: number;
  /** Integer in [0, 2^53): the first Philox block (4 values per block); 0 by default. */
  offset?: number;
}

/** Philox blocks consumed by a draw of `size` values: the next draw continues at offset + this. */
export function randomStreamBlocks(size: number): number {
  return Math.ceil(size / 4);
}

function checkStream(op: string, shape: readonly number[], seed: number, offset: number): void {
  checkShape(op, 'shape', shape);
  for (const [name, v] of [['seed', seed], ['offset', offset]] as const)
    if (!Number.isSafeInteger(v) || v < 0) fail(op, `${name} must be an integer in [0, 2^53), got ${v}`);
}

/** Uniform values in [low, high) (default [0, 1)). */
export function randomUniform(
  shape: readonly number[],
  { seed, offset = 0, low = 0, high = 1, device = 'cpu', dtype = 'float32' }: RandomOptions & { low?: number; high?: number },
): Tensor {
  const op = 'random_uniform';
  checkStream(op, shape, seed, offset);
  checkFinite(op, 'low', low);
  checkFinite(op, 'high', high);
  if (low > high) fail(op, `low ${low} must not exceed high ${high}`);
  return runOp1(op, [], { shape: [...shape], seed, offset, low, high, device, dtype });
}

/** Normal values with the given mean and standard deviation (default 0 and 1). */
export function randomNormal(
  shape: readonly number[],
  { seed, offset = 0, mean = 0, std = 1, device = 'cpu', dtype = 'float32' }: RandomOptions & { mean?: number; std?: number },
): Tensor {
  const op = 'random_normal';
  checkStream(op, shape, seed, offset);
  checkFinite(op, 'mean', mean);
  checkFinite(op, 'std', std);
  if (std < 0) fail(op, `std must not be negative, got ${std}`);
  return runOp1(op, [], { shape: [...shape], seed, offset, mean, std, device, dtype });
}
