// Spectral normalisation of a weight (torch.nn.utils.spectral_norm), with its power-iteration state.
import { Tensor } from '../tensor';
import { runOp, runOp1 } from './run';
import { checkSameDevice, checkSameShape, fail, shapeStr } from './checks';

export interface SpectralNormResult {
  /** weight_orig / sigma. */
  weight: Tensor;
  /** The state after the forward: u' (rows), v' (cols); the inputs' copies in eval mode. */
  u: Tensor;
  v: Tensor;
  /** u'ᵀ W v', shape [1]. */
  sigma: Tensor;
}

function checkArgs(op: string, weightOrig: Tensor, u: Tensor, v: Tensor): void {
  if (weightOrig.rank < 2) fail(op, `weight_orig must have rank 2 or more, got shape ${shapeStr(weightOrig.shape)}`);
  const rows = weightOrig.shape[0];
  const cols = weightOrig.size / rows;
  if (u.rank !== 1 || u.shape[0] !== rows) fail(op, `u must have shape [${rows}] for weight_orig ${shapeStr(weightOrig.shape)}, got ${shapeStr(u.shape)}`);
  if (v.rank !== 1 || v.shape[0] !== cols) fail(op, `v must have shape [${cols}] for weight_orig ${shapeStr(weightOrig.shape)}, got ${shapeStr(v.shape)}`);
  checkSameDevice(op, { weightOrig, u, v });
}

/**
 * W = weightOrig as a (dim 0) x (rest) matrix. Training: one power iteration, v' = normalize(Wᵀu),
 * u' = normalize(Wv') (v is not read); eval: u' = u, v' = v. sigma = u'ᵀWv', weight = W / sigma.
 */
export function spectralNorm(weightOrig: Tensor, u: Tensor, v: Tensor, options: { training: boolean }): SpectralNormResult {
  checkArgs('spectral_norm', weightOrig, u, v);
  const [weight, uNew, vNew, sigma] = runOp('spectral_norm', [weightOrig, u, v], { training: options.training }) as Tensor[];
  return { weight, u: uNew, v: vNew, sigma };
}

/** Gradient with respect to weightOrig, u' and v' (the forward's outputs) held constant, as in PyTorch. */
export function spectralNormBackward(dweight: Tensor, weightOrig: Tensor, uNew: Tensor, vNew: Tensor): Tensor {
  const op = 'spectral_norm_backward';
  checkArgs(op, weightOrig, uNew, vNew);
  checkSameShape(op, 'dweight', dweight, 'weight_orig', weightOrig);
  checkSameDevice(op, { dweight, weightOrig });
  return runOp1(op, [dweight, weightOrig, uNew, vNew]);
}
