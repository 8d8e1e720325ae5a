// Bessel function of the first kind, order 1, for the sinc kernel (arguments up to ~50).
// Power series below 12 (cancellation costs at most ~1e-12), Hankel's asymptotic expansion above
// (summed until its terms stop shrinking; the smallest term at x ≥ 12 is below 1e-10).

const SERIES_LIMIT = 12;

function seriesJ1(x: number): number {
  const h = x / 2;
  const h2 = h * h;
  let term = h; // (x/2)^(2k+1) / (k! (k+1)!) at k = 0
  let sum = term;
  for (let k = 1; k < 200; k++) {
    term *= -h2 / (k * (k + 1));
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return sum;
}

function asymptoticJ1(x: number): number {
  // J1(x) = sqrt(2/(πx)) (P cos χ - Q sin χ), χ = x - 3π/4, μ = 4;
  // P, Q alternate terms a_k = Π_{i=1..k} (μ - (2i-1)²) / (k! (8x)^k).
  const mu = 4;
  let p = 1;
  let q = 0;
  let term = 1;
  let previous = Infinity;
  for (let k = 1; k < 100; k++) {
    term *= (mu - (2 * k - 1) ** 2) / (k * 8 * x);
    if (Math.abs(term) > previous) break;
    previous = Math.abs(term);
    // Terms with k ≡ 1, 2, 3, 0 (mod 4) go to +Q, -P, -Q, +P.
    switch (k % 4) {
      case 1:
        q += term;
        break;
      case 2:
        p -= term;
        break;
      case 3:
        q -= term;
        break;
      default:
        p += term;
    }
    if (Math.abs(term) < 1e-17) break;
  }
  const chi = x - 0.75 * Math.PI;
  return Math.sqrt(2 / (Math.PI * x)) * (p * Math.cos(chi) - q * Math.sin(chi));
}

/** J1(x); odd in x. */
export function besselJ1(x: number): number {
  const a = Math.abs(x);
  const v = a < SERIES_LIMIT ? seriesJ1(a) : asymptoticJ1(a);
  return x < 0 ? -v : v;
}
