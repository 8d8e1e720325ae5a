// 1-D resize rules as (m x n) matrices: out = M · in along one axis, border rules folded in.
// A 2-D resize is resizeSeparable(x, M_rows, M_cols). Spec sections 1.4 and 2.4.

/** Row-major (rows x cols) float64 matrix. */
export interface ResizeMatrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

function matrix(rows: number, cols: number): ResizeMatrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

function checkLength(rule: string, n: number, m: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${rule}: input length must be a positive integer, got ${n}`);
  if (!Number.isInteger(m) || m < 1) throw new Error(`${rule}: output length ${m} for input length ${n} (the image is too small for this scale)`);
}

/** Keys cubic with a = -0.5 (MATLAB imresize). */
function keysCubic(t: number): number {
  const a = Math.abs(t);
  if (a <= 1) return 1.5 * a * a * a - 2.5 * a * a + 1;
  if (a <= 2) return -0.5 * a * a * a + 2.5 * a * a - 4 * a + 2;
  return 0;
}

/**
 * MATLAB-style antialiased bicubic weights for output x = 1..m (1-based): centre u = x/f + (1 - 1/f)/2,
 * taps floor(u - W/2) .. + ceil(W) + 1 with W = 4 (4/f when shrinking), weights normalised per row.
 * `border` maps an out-of-range 1-based tap index to the pixel it reads.
 */
function matlabCubic(n: number, m: number, factor: number, border: (index: number) => number): ResizeMatrix {
  const out = matrix(m, n);
  const shrink = factor < 1;
  const width = shrink ? 4 / factor : 4;
  const taps = Math.ceil(width) + 2;
  const weights = new Float64Array(taps);
  for (let x = 1; x <= m; x++) {
    const u = x / factor + 0.5 * (1 - 1 / factor);
    const left = Math.floor(u - width / 2);
    let sum = 0;
    for (let p = 0; p < taps; p++) {
      const d = u - (left + p);
      sum += weights[p] = shrink ? factor * keysCubic(factor * d) : keysCubic(d);
    }
    for (let p = 0; p < taps; p++) {
      if (weights[p] === 0) continue;
      out.data[(x - 1) * n + border(left + p) - 1] += weights[p] / sum;
    }
  }
  return out;
}

/**
 * KDSR-classic's bicubic (utils/util2.py): output length floor(n·f), taps outside 1..n clamped to the
 * edge pixel (replication). f = 1/s shrinks, f = s enlarges.
 */
export function bicubicKdsrMatrix(n: number, factor: number): ResizeMatrix {
  const m = Math.floor(n * factor);
  checkLength('bicubicKdsr', n, m);
  return matlabCubic(n, m, factor, (i) => Math.min(Math.max(i, 1), n));
}

/**
 * MATLAB imresize / BasicSR matlab_functions.imresize: output length ceil(n·scale), out-of-range taps
 * mirrored with edge repetition (index 0 reads pixel 1, index n + 1 reads pixel n; 1-based).
 */
export function imresizeMatrix(n: number, scale: number): ResizeMatrix {
  const m = Math.ceil(n * scale);
  checkLength('imresize', n, m);
  const mirror = (i: number): number => {
    // Symmetric extension has period 2n; fold into 1..n.
    let k = (((i - 1) % (2 * n)) + 2 * n) % (2 * n);
    if (k >= n) k = 2 * n - 1 - k;
    return k + 1;
  };
  return matlabCubic(n, m, scale, mirror);
}

export type TorchResizeMode = 'area' | 'bilinear' | 'bicubic';

/** Cubic convolution with A = -0.75 (PyTorch). */
function torchCubic(t: number): number {
  const A = -0.75;
  const a = Math.abs(t);
  if (a <= 1) return (A + 2) * a * a * a - (A + 3) * a * a + 1;
  if (a < 2) return A * a * a * a - 5 * A * a * a + 8 * A * a - 4 * A;
  return 0;
}

/**
 * torch.nn.functional.interpolate along one axis (align_corners false, no antialiasing): n -> m.
 * `scaleFactor` is the factor the call gave (source step 1/scaleFactor); without it the step is n/m.
 */
export function torchResizeMatrix(n: number, m: number, mode: TorchResizeMode, scaleFactor?: number): ResizeMatrix {
  checkLength(`torch ${mode} resize`, n, m);
  const out = matrix(m, n);
  const step = scaleFactor !== undefined && scaleFactor > 0 ? 1 / scaleFactor : n / m;
  const add = (row: number, col: number, w: number) => (out.data[row * n + Math.min(Math.max(col, 0), n - 1)] += w);
  for (let j = 0; j < m; j++) {
    if (mode === 'area') {
      // Adaptive average pooling: [floor(j n / m), ceil((j + 1) n / m)), in exact integer arithmetic.
      const start = Math.floor((j * n) / m);
      const end = Math.ceil(((j + 1) * n) / m);
      for (let i = start; i < end; i++) add(j, i, 1 / (end - start));
    } else if (mode === 'bilinear') {
      if (m === n) {
        // PyTorch copies an axis whose size does not change, whatever the scale factor.
        add(j, j, 1);
        continue;
      }
      const x = Math.max((j + 0.5) * step - 0.5, 0);
      const i0 = Math.min(Math.floor(x), n - 1);
      const lambda = Math.min(Math.max(x - i0, 0), 1);
      const i1 = i0 < n - 1 ? i0 + 1 : i0;
      add(j, i0, 1 - lambda);
      add(j, i1, lambda);
    } else {
      const x = (j + 0.5) * step - 0.5;
      const i = Math.floor(x);
      const f = x - i;
      add(j, i - 1, torchCubic(1 + f));
      add(j, i, torchCubic(f));
      add(j, i + 1, torchCubic(1 - f));
      add(j, i + 2, torchCubic(2 - f));
    }
  }
  return out;
}

/** Output length of a torch resize by a scale factor: floor(n·s). */
export function torchScaledLength(n: number, scaleFactor: number): number {
  return Math.floor(n * scaleFactor);
}

/** Transposed copy (the adjoint map, e.g. for gradients). */
export function transposeMatrix(mat: ResizeMatrix): ResizeMatrix {
  const out = matrix(mat.cols, mat.rows);
  for (let i = 0; i < mat.rows; i++) for (let j = 0; j < mat.cols; j++) out.data[j * mat.rows + i] = mat.data[i * mat.cols + j];
  return out;
}

/**
 * A 1-D filter of odd length 2r+1 as an (n x n) map with reflect padding (mirror without repeating
 * the edge pixel, index -1 reads 1): out[i] = Σ_t taps[t] in[reflect(i + t - r)]. Requires n > r.
 */
export function reflectFilterMatrix(n: number, taps: ArrayLike<number>): ResizeMatrix {
  const r = (taps.length - 1) / 2;
  if (!Number.isInteger(r)) throw new Error(`reflectFilterMatrix: the filter length must be odd, got ${taps.length}`);
  if (n <= r) throw new Error(`reflectFilterMatrix: a length of ${n} is too short for reflect padding of ${r}`);
  const out = matrix(n, n);
  const reflect = (i: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  for (let i = 0; i < n; i++) for (let t = 0; t < taps.length; t++) out.data[i * n + reflect(i + t - r)] += taps[t];
  return out;
}
