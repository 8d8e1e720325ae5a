// Finite-difference gradient checks in float64 on the reference kernels.
// For a scalar L = sum(dy * f(inputs)), central differences with h = 1e-6 have truncation error
// O(h^2 f''') ~ 1e-12 and rounding error ~ 1e-16 |L| / h ~ 1e-10, so an analytic gradient that is
// right agrees to ~1e-7 relative while a wrong one is off by O(1). Kinks (LeakyReLU, |x|, max,
// clamp) are kept at least 1e-3 away from every input, far beyond h.
import { Tensor, tidy } from '../src/ts';

/** sum(dy * y) in float64. */
function dot(y: Tensor, dy: Float64Array): number {
  const v = y.toArray();
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * dy[i];
  return s;
}

/**
 * Numerical vector-Jacobian product of f with respect to inputs[index] at upstream gradient dy.
 * f must be a function of float64 tensors returning one float64 tensor.
 */
export function numericalVjp(f: (inputs: Tensor[]) => Tensor, inputs: Tensor[], index: number, dy: Float64Array, h = 1e-6): Float64Array {
  const base = inputs[index].toArray() as Float64Array;
  const grad = new Float64Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const values = [base[i] + h, base[i] - h].map((xi) =>
      tidy(() => {
        const perturbed = Float64Array.from(base);
        perturbed[i] = xi;
        const moved = Tensor.fromArray(perturbed, inputs[index].shape, { dtype: 'float64' });
        const args = inputs.slice();
        args[index] = moved;
        return dot(f(args), dy);
      }),
    );
    grad[i] = (values[0] - values[1]) / (2 * h);
  }
  return grad;
}

/** Asserts that analytic and numerical gradients agree to `tolerance` relative to the larger's max. */
export function expectGradClose(analytic: Tensor, numerical: Float64Array, tolerance = 1e-6, label = ''): void {
  const a = analytic.toArray();
  expect(a.length).toBe(numerical.length);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - numerical[i]));
    maxRef = Math.max(maxRef, Math.abs(numerical[i]), Math.abs(a[i]));
  }
  const error = maxRef === 0 ? maxDiff : maxDiff / maxRef;
  if (!(error <= tolerance)) throw new Error(`${label}: gradient relative error ${error.toExponential(3)} > ${tolerance}`);
}
