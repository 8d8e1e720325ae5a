// 2-D resizes of (B, C, H, W) tensors through the engine's resize_separable op. The 1-D matrices are
// built on the host once per (rule, length, parameter, dtype, device) and cached.
import { DType, keep, resizeSeparable, Tensor } from '@kdsr/cuda';
import { bicubicKdsrMatrix, imresizeMatrix, reflectFilterMatrix, ResizeMatrix, torchResizeMatrix, TorchResizeMode, torchScaledLength } from './resize-matrices';

const CACHE_LIMIT = 256;
const cache = new Map<string, Tensor>();

/** The engine tensor of a cached host matrix (built by `build` on a miss). */
function matrixTensor(key: string, dtype: DType, device: string, build: () => ResizeMatrix): Tensor {
  const full = `${key}|${dtype}|${device}`;
  let t = cache.get(full);
  if (t && !t.disposed) {
    cache.delete(full);
    cache.set(full, t); // most recently used last
    return t;
  }
  const m = build();
  t = keep(Tensor.fromArray(dtype === 'float64' ? m.data : Float32Array.from(m.data), [m.rows, m.cols], { dtype, device }));
  cache.set(full, t);
  if (cache.size > CACHE_LIMIT) {
    const [oldest, old] = cache.entries().next().value as [string, Tensor];
    cache.delete(oldest);
    old.dispose();
  }
  return t;
}

function checkImage(op: string, x: Tensor): void {
  if (x.rank !== 4) throw new Error(`${op}: expected a (B,C,H,W) tensor, got shape [${x.shape.join(',')}]`);
}

/** resizeSeparable with host matrices (not cached). */
export function resizeWithMatrices(x: Tensor, rows: ResizeMatrix, cols: ResizeMatrix): Tensor {
  checkImage('resizeWithMatrices', x);
  const asTensor = (m: ResizeMatrix) => Tensor.fromArray(x.dtype === 'float64' ? m.data : Float32Array.from(m.data), [m.rows, m.cols], { dtype: x.dtype, device: x.device });
  const mh = asTensor(rows);
  const mw = asTensor(cols);
  try {
    return resizeSeparable(x, mh, mw);
  } finally {
    mh.dispose();
    mw.dispose();
  }
}

/** KDSR-classic bicubic by factor f (1/s shrinks with antialiasing, s enlarges): floor size, replicated edges. */
export function bicubicKdsr(x: Tensor, factor: number): Tensor {
  checkImage('bicubicKdsr', x);
  const [, , h, w] = x.shape;
  const mh = matrixTensor(`kdsr:${h}:${factor}`, x.dtype, x.device, () => bicubicKdsrMatrix(h, factor));
  const mw = matrixTensor(`kdsr:${w}:${factor}`, x.dtype, x.device, () => bicubicKdsrMatrix(w, factor));
  return resizeSeparable(x, mh, mw);
}

/** MATLAB imresize (bicubic, antialiasing) by `scale`: ceil size, symmetric borders. */
export function imresize(x: Tensor, scale: number): Tensor {
  checkImage('imresize', x);
  const [, , h, w] = x.shape;
  const mh = matrixTensor(`imresize:${h}:${scale}`, x.dtype, x.device, () => imresizeMatrix(h, scale));
  const mw = matrixTensor(`imresize:${w}:${scale}`, x.dtype, x.device, () => imresizeMatrix(w, scale));
  return resizeSeparable(x, mh, mw);
}

export type TorchResizeTarget = { scaleFactor: number } | { size: readonly [number, number] };

/** F.interpolate(x, scale_factor= or size=, mode) with align_corners false and no antialiasing. */
export function torchResize(x: Tensor, mode: TorchResizeMode, target: TorchResizeTarget): Tensor {
  checkImage('torchResize', x);
  const [, , h, w] = x.shape;
  const byScale = 'scaleFactor' in target;
  const s = byScale ? target.scaleFactor : undefined;
  const [oh, ow] = byScale ? [torchScaledLength(h, target.scaleFactor), torchScaledLength(w, target.scaleFactor)] : target.size;
  const mh = matrixTensor(`torch:${mode}:${h}:${oh}:${s}`, x.dtype, x.device, () => torchResizeMatrix(h, oh, mode, s));
  const mw = matrixTensor(`torch:${mode}:${w}:${ow}:${s}`, x.dtype, x.device, () => torchResizeMatrix(w, ow, mode, s));
  return resizeSeparable(x, mh, mw);
}

/** Spatial crop of a (B, C, H, W) tensor on its device (a selection map through resize_separable). */
export function cropTensor(x: Tensor, top: number, left: number, height: number, width: number): Tensor {
  checkImage('cropTensor', x);
  const [, , h, w] = x.shape;
  if (top < 0 || left < 0 || height < 1 || width < 1 || top + height > h || left + width > w)
    throw new Error(`cropTensor: a ${height}x${width} crop at (${top},${left}) does not fit in ${h}x${w}`);
  if (top === 0 && left === 0 && height === h && width === w) return x;
  const select = (n: number, start: number, length: number): ResizeMatrix => {
    const data = new Float64Array(length * n);
    for (let i = 0; i < length; i++) data[i * n + start + i] = 1;
    return { rows: length, cols: n, data };
  };
  const mh = matrixTensor(`crop:${h}:${top}:${height}`, x.dtype, x.device, () => select(h, top, height));
  const mw = matrixTensor(`crop:${w}:${left}:${width}`, x.dtype, x.device, () => select(w, left, width));
  return resizeSeparable(x, mh, mw);
}

/**
 * Separable filtering with reflect padding: the same 1-D taps along rows and columns (for a kernel
 * that is the outer product of `taps` with itself). `name` identifies the taps in the matrix cache.
 */
export function separableReflectFilter(x: Tensor, taps: ArrayLike<number>, name: string): Tensor {
  checkImage('separableReflectFilter', x);
  const [, , h, w] = x.shape;
  const mh = matrixTensor(`filter:${name}:${h}`, x.dtype, x.device, () => reflectFilterMatrix(h, taps));
  const mw = matrixTensor(`filter:${name}:${w}`, x.dtype, x.device, () => reflectFilterMatrix(w, taps));
  return resizeSeparable(x, mh, mw);
}
