// Blur kernels of both degradation models (spec 1.2, 2.2): Gaussian (isotropic / anisotropic),
// generalized Gaussian, plateau and the circular sinc. Kernels are (K, K) float64 row-major,
// indexed [row][column], offsets x = column - c, y = row - c (y down), normalised to sum 1.
import { besselJ1 } from './bessel';

/** Row-major (size x size) kernel. */
export interface Kernel {
  size: number;
  data: Float64Array;
}

/** Principal standard deviations and the rotation of the first axis from +x towards +y (radians). */
export interface KernelShape {
  sigmaX: number;
  sigmaY: number;
  theta: number;
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) throw new Error(`kernel size must be a positive odd integer, got ${size}`);
}

/** Σ = R(θ) diag(σx², σy²) R(θ)ᵀ as [a, b, b, d]. */
export function covariance({ sigmaX, sigmaY, theta }: KernelShape): [number, number, number, number] {
  if (!(sigmaX > 0 && sigmaY > 0)) throw new Error(`kernel sigmas must be positive, got ${sigmaX} and ${sigmaY}`);
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  const vx = sigmaX * sigmaX;
  const vy = sigmaY * sigmaY;
  const a = c * c * vx + s * s * vy;
  const b = c * s * (vx - vy);
  const d = s * s * vx + c * c * vy;
  return [a, b, b, d];
}

/** Normalised kernel from a profile of the quadratic form q = [x y] Σ⁻¹ [x y]ᵀ. */
function fromQuadraticForm(shape: KernelShape, size: number, profile: (q: number) => number): Kernel {
  checkSize(size);
  const [a, b, , d] = covariance(shape);
  const det = a * d - b * b;
  const [ia, ib, id] = [d / det, -b / det, a / det];
  const c = (size - 1) / 2;
  const data = new Float64Array(size * size);
  let sum = 0;
  for (let i = 0; i < size; i++)
    for (let j = 0; j < size; j++) {
      const x = j - c;
      const y = i - c;
      sum += data[i * size + j] = profile(ia * x * x + 2 * ib * x * y + id * y * y);
    }
  for (let k = 0; k < data.length; k++) data[k] /= sum;
  return { size, data };
}

/** Anisotropic Gaussian: exp(-q/2). KDSR's (λ1, λ2, θ) are (sigmaX, sigmaY, theta). */
export function gaussianKernel(shape: KernelShape, size = 21): Kernel {
  return fromQuadraticForm(shape, size, (q) => Math.exp(-0.5 * q));
}

export function isotropicGaussianKernel(sigma: number, size = 21): Kernel {
  return gaussianKernel({ sigmaX: sigma, sigmaY: sigma, theta: 0 }, size);
}

/** Generalized Gaussian: exp(-q^β / 2) (β = 1 is the Gaussian). */
export function generalizedGaussianKernel(shape: KernelShape, beta: number, size = 21): Kernel {
  return fromQuadraticForm(shape, size, (q) => Math.exp(-0.5 * Math.pow(q, beta)));
}

/** Plateau: 1 / (1 + q^β). */
export function plateauKernel(shape: KernelShape, beta: number, size = 21): Kernel {
  return fromQuadraticForm(shape, size, (q) => 1 / (1 + Math.pow(q, beta)));
}

/** Circular low-pass: ω J1(ω r) / (2π r), centre ω²/(4π), normalised, then zero-padded to `padTo`. */
export function sincKernel(cutoff: number, size: number, padTo = size): Kernel {
  checkSize(size);
  checkSize(padTo);
  if (padTo < size) throw new Error(`sinc kernel: cannot pad a ${size}x${size} kernel to ${padTo}`);
  const c = (size - 1) / 2;
  const raw = new Float64Array(size * size);
  let sum = 0;
  for (let i = 0; i < size; i++)
    for (let j = 0; j < size; j++) {
      const r = Math.hypot(i - c, j - c);
      sum += raw[i * size + j] = r === 0 ? (cutoff * cutoff) / (4 * Math.PI) : (cutoff * besselJ1(cutoff * r)) / (2 * Math.PI * r);
    }
  return padKernel({ size, data: raw.map((v) => v / sum) }, padTo);
}

/** Zero-pads a kernel symmetrically to `size`. */
export function padKernel(kernel: Kernel, size: number): Kernel {
  if (size === kernel.size) return kernel;
  if (size < kernel.size || (size - kernel.size) % 2 !== 0) throw new Error(`cannot pad a ${kernel.size}x${kernel.size} kernel to ${size}x${size}`);
  const p = (size - kernel.size) / 2;
  const data = new Float64Array(size * size);
  for (let i = 0; i < kernel.size; i++) data.set(kernel.data.subarray(i * kernel.size, (i + 1) * kernel.size), (i + p) * size + p);
  return { size, data };
}

/** The K x K identity (a 1 in the centre): filtering with it changes nothing. */
export function impulseKernel(size = 21): Kernel {
  checkSize(size);
  const data = new Float64Array(size * size);
  data[(size * size - 1) / 2] = 1;
  return { size, data };
}
