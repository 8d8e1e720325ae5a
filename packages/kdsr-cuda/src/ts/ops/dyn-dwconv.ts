// The IDR dynamic depthwise convolution: each (sample, channel) plane has its own k x k kernel.
import { Tensor } from '../tensor';
import { runOp, runOp1 } from './run';
import { checkRank, checkSameDevice, checkSameShape, fail, shapeStr } from './checks';

export type DynDwconvPadding = 'zero' | 'reflect';

export interface DynDwconvOptions {
  /** Border of k//2 pixels: zeros (IDR-DDC) or the mirror image without the edge pixel (blur). Default 'zero'. */
  padding?: DynDwconvPadding;
  /** When given, LeakyReLU with this negative slope (>= 0) is fused on the output. */
  negativeSlope?: number;
}

export interface DynDwconvBackwardOptions extends DynDwconvOptions {
  needInput?: boolean;
  needKernels?: boolean;
}

export interface DynDwconvGradients {
  dx: Tensor | null;
  dkernels: Tensor | null;
}

function checkArgs(op: string, x: Tensor, kernels: Tensor, options: DynDwconvOptions): void {
  checkRank(op, 'x', x, 4);
  checkRank(op, 'kernels', kernels, 4);
  const [b, c, h, w] = x.shape;
  const [kb, kc, kh, kw] = kernels.shape;
  if (kb !== b || kc !== c) fail(op, `kernels ${shapeStr(kernels.shape)} must have one kernel per sample and channel of x ${shapeStr(x.shape)}`);
  if (kh !== kw || kh % 2 !== 1) fail(op, `kernels must be square with an odd size, got ${kh}x${kw}`);
  const padding = options.padding ?? 'zero';
  if (padding !== 'zero' && padding !== 'reflect') fail(op, `padding must be 'zero' or 'reflect', got '${String(padding)}'`);
  if (padding === 'reflect' && (Math.floor(kh / 2) >= h || Math.floor(kh / 2) >= w))
    fail(op, `reflect padding of ${Math.floor(kh / 2)} needs height and width above it, got x ${shapeStr(x.shape)}`);
  const slope = options.negativeSlope;
  if (slope !== undefined && !(slope >= 0)) fail(op, `negativeSlope must be >= 0, got ${slope}`);
}

/** y[b,c] = x[b,c] cross-correlated with kernels[b,c] (stride 1, padding k//2), then LeakyReLU if negativeSlope is given. */
export function dynDwconv(x: Tensor, kernels: Tensor, options: DynDwconvOptions = {}): Tensor {
  checkArgs('dyn_dwconv', x, kernels, options);
  checkSameDevice('dyn_dwconv', { x, kernels });
  return runOp1('dyn_dwconv', [x, kernels], { padding: options.padding ?? 'zero', negative_slope: options.negativeSlope });
}

/**
 * Gradients of dynDwconv with upstream gradient dy. With a fused LeakyReLU, y must be the forward
 * output (the LeakyReLU mask is read from its sign); otherwise y may be null.
 */
export function dynDwconvBackward(dy: Tensor, x: Tensor, kernels: Tensor, y: Tensor | null, options: DynDwconvBackwardOptions = {}): DynDwconvGradients {
  const op = 'dyn_dwconv_backward';
  checkArgs(op, x, kernels, options);
  checkSameShape(op, 'dy', dy, 'x', x);
  if (options.negativeSlope !== undefined) {
    if (!y) fail(op, 'y (the forward output) is required with negativeSlope');
    checkSameShape(op, 'y', y, 'x', x);
  }
  checkSameDevice(op, { dy, x, kernels, y });
  const [dx, dkernels] = runOp(op, [dy, x, kernels, options.negativeSlope !== undefined ? y : null], {
    padding: options.padding ?? 'zero',
    negative_slope: options.negativeSlope,
    need_input: options.needInput ?? true,
    need_kernels: options.needKernels ?? true,
  });
  return { dx, dkernels };
}
