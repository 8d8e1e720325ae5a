// The global L2 norm of the gradients, reduced on the device; one number comes back. It is NaN or
// Infinity as soon as any gradient element is.
import { add, mul, reduceSum, Tensor, tidy } from '@kdsr/cuda';
import type { Parameter } from '../nn/parameter';

export function gradNorm(params: readonly Parameter[]): number {
  return tidy(() => {
    let total: Tensor | null = null;
    for (const p of params) {
      if (!p.grad) continue;
      const squares = reduceSum(mul(p.grad, p.grad));
      total = total ? add(total, squares) : squares;
    }
    return total ? Math.sqrt(total.toArray()[0]) : 0;
  });
}
