// IDR-DDC on channel-blocked activations (blocked-layout.ts), for the planned CPU inference path; not differentiable.
import { Tensor } from '../tensor';
import { runOp1 } from './run';
import { checkBlocked } from './blocked-layout';
import { checkRank, checkSameDevice, fail, shapeStr } from './checks';

/** dynDwconv with zero padding on a blocked x holding kernels' C channels; kernels (B,C,k,k), odd k; LeakyReLU fused when negativeSlope is given. */
export function dynDwconvBlocked(x: Tensor, kernels: Tensor, options: { negativeSlope?: number } = {}): Tensor {
  const op = 'dyn_dwconv_blocked';
  checkRank(op, 'kernels', kernels, 4);
  const [kb, c, kh, kw] = kernels.shape;
  if (kh !== kw || kh % 2 !== 1) fail(op, `kernels must be square with an odd size, got ${kh}x${kw}`);
  checkBlocked(op, 'x', x, c);
  if (kb !== x.shape[0]) fail(op, `kernels ${shapeStr(kernels.shape)} must have one kernel per sample of x ${shapeStr(x.shape)}`);
  const slope = options.negativeSlope;
  if (slope !== undefined && !Number.isFinite(slope)) fail(op, `negativeSlope must be a finite number, got ${slope}`);
  checkSameDevice(op, { x, kernels });
  return runOp1(op, [x, kernels], { negative_slope: slope });
}
