// Central finite differences in float64 for whole computations (not single kernels): with
// h = 1e-6, truncation error is O(h² f''') ~ 1e-12 and rounding ~ 1e-16 |L| / h ~ 1e-10, so a
// right analytic gradient agrees to ~1e-7 relative and a wrong one is off by O(1). Inputs are kept
// 1e-3 away from kinks (LeakyReLU at 0, |a-b| at 0), far beyond h.
import { Tensor, tidy } from '@kdsr/cuda';

/** d f / d inputs[index] by central differences; f returns a one-element float64 tensor. */
export function numericalGradient(f: (inputs: Tensor[]) => Tensor, inputs: Tensor[], index: number, h = 1e-6, only?: number[]): Float64Array {
  const base = inputs[index].toArray() as Float64Array;
  const grad = new Float64Array(base.length).fill(NaN);
  for (const i of only ?? base.keys()) {
    const [plus, minus] = [base[i] + h, base[i] - h].map((v) =>
      tidy(() => {
        const moved = Float64Array.from(base);
        moved[i] = v;
        const args = inputs.slice();
        args[index] = Tensor.fromArray(moved, inputs[index].shape, { dtype: 'float64', device: inputs[index].device });
        return f(args).toArray()[0];
      }),
    );
    grad[i] = (plus - minus) / (2 * h);
  }
  return grad;
}

/** max |a - n| / max(|n|, |a|) over the checked entries (NaN entries of numerical are skipped). */
export function gradError(analytic: ArrayLike<number>, numerical: Float64Array): number {
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < numerical.length; i++) {
    if (Number.isNaN(numerical[i])) continue;
    diff = Math.max(diff, Math.abs(analytic[i] - numerical[i]));
    ref = Math.max(ref, Math.abs(numerical[i]), Math.abs(analytic[i]));
  }
  return ref === 0 ? diff : diff / ref;
}
