import { Tensor } from '../tensor';
import { runOp1 } from './run';
import { fail } from './checks';

/**
 * Poisson draws with the given rates (any shape; rates >= 0), from the Philox stream of `seed`
 * (stream defined in op-table.json). A draw of n values continues at offset + n.
 */
export function randomPoisson(rate: Tensor, { seed, offset = 0 }: { seed: number; offset?: number }): Tensor {
  const op = 'random_poisson';
  for (const [name, v] of [['seed', seed], ['offset', offset]] as const)
    if (!Number.isSafeInteger(v) || v < 0) fail(op, `${name} must be an integer in [0, 2^53), got ${v}`);
  return runOp1(op, [rate], { seed, offset });
}
