// Every gradient rule, in one table keyed by op name (tinygrad's pm_gradient, PyTorch's
// derivatives.yaml). A rule receives the upstream gradient dy and the recorded node and returns one
// gradient per forward input (null where the input needs none or is not differentiable). Rules
// follow op-table.json's `grad` entry: `kernel` rules call that backward kernel with the inputs it
// saves, `composite` rules are built from forward ops. Rules only compute; the engine (backward.ts)
// checks counts and shapes and accumulates. test/autograd.test.ts checks this table against the op table.
import {
  bceWithLogitsBackward,
  channelAffineBackward,
  clampBackward,
  conv2dBackward,
  dynDwconvBackward,
  globalAvgPoolBackward,
  kdLossBackward,
  l1LossBackward,
  leakyReluBackward,
  linearBackward,
  logSoftmaxBackward,
  maxPool2x2Backward,
  mul,
  pixelShuffle,
  pixelUnshuffle,
  reduceBackward,
  reduceMaxBackward,
  resizeSeparable,
  scale,
  sliceChannels,
  sliceChannelsBackward,
  softmaxBackward,
  spectralNormBackward,
  Tensor,
  upsampleBilinear2xBackward,
} from '@kdsr/cuda';
import type { GradNode } from './graph';

export type GradRule = (dy: Tensor, node: GradNode) => Array<Tensor | null>;

type Attrs = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const input = (node: GradNode, i: number): Tensor => node.inputs[i] as Tensor;
const attrs = (node: GradNode): Attrs => node.attrs as Attrs;

/** mᵀ of a small 2-D matrix (resize matrices are at most a few hundred rows), through the host. */
function transposed(m: Tensor): Tensor {
  const [rows, cols] = m.shape;
  const data = m.toArray();
  const out = m.dtype === 'float64' ? new Float64Array(data.length) : new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return Tensor.fromArray(out, [cols, rows], { device: m.device, dtype: m.dtype });
}

export const gradRules: Readonly<Record<string, GradRule>> = {
  conv2d: (dy, node) => {
    const [needInput, needWeight, needBias] = node.needs;
    const { stride, padding } = attrs(node);
    const g = conv2dBackward(dy, input(node, 0), input(node, 1), { stride, padding, needInput, needWeight, needBias: needBias ?? false });
    return [g.dx, g.dweight, g.dbias];
  },

  linear: (dy, node) => {
    const [needInput, needWeight, needBias] = node.needs;
    const g = linearBackward(dy, input(node, 0), input(node, 1), { needInput, needWeight, needBias: needBias ?? false });
    return [g.dx, g.dweight, g.dbias];
  },

  // The fused LeakyReLU reads its mask from the saved output y.
  dyn_dwconv: (dy, node) => {
    const [needInput, needKernels] = node.needs;
    const { padding, negativeSlope } = attrs(node);
    const g = dynDwconvBackward(dy, input(node, 0), input(node, 1), node.output, { padding, negativeSlope, needInput, needKernels });
    return [g.dx, g.dkernels];
  },

  leaky_relu: (dy, node) => [leakyReluBackward(dy, input(node, 0), attrs(node).negativeSlope)],

  add: (dy) => [dy, dy],
  sub: (dy) => [dy, scale(dy, -1)],
  mul: (dy, node) => [node.needs[0] ? mul(dy, input(node, 1)) : null, node.needs[1] ? mul(dy, input(node, 0)) : null],
  scale: (dy, node) => [scale(dy, attrs(node).alpha)],
  axpy: (dy, node) => [node.needs[0] ? scale(dy, attrs(node).alpha) : null, dy],

  concat_channels: (dy, node) => {
    const ca = input(node, 0).shape[1];
    const cb = input(node, 1).shape[1];
    return [node.needs[0] ? sliceChannels(dy, 0, ca) : null, node.needs[1] ? sliceChannels(dy, ca, cb) : null];
  },
  slice_channels: (dy, node) => [sliceChannelsBackward(dy, attrs(node).start, input(node, 0).shape[1])],

  pixel_shuffle: (dy, node) => [pixelUnshuffle(dy, attrs(node).factor)],
  pixel_unshuffle: (dy, node) => [pixelShuffle(dy, attrs(node).factor)],

  upsample_bilinear2x: (dy) => [upsampleBilinear2xBackward(dy)],
  max_pool2x2: (dy, node) => [maxPool2x2Backward(dy, input(node, 0))],

  // u' and v' (the forward's other outputs, kept in the node's attributes) are constants, as in
  // PyTorch; the incoming u and v get no gradient.
  spectral_norm: (dy, node) => [spectralNormBackward(dy, input(node, 0), attrs(node).uNew, attrs(node).vNew), null, null],

  global_avg_pool: (dy, node) => {
    const [, , height, width] = input(node, 0).shape;
    return [globalAvgPoolBackward(dy, height, width)];
  },

  channel_affine: (dy, node) => {
    const [needInput, needScale, needShift] = node.needs;
    const g = channelAffineBackward(dy, input(node, 0), input(node, 1), { needInput, needScale, needShift });
    return [g.dx, g.dscale, g.dshift];
  },

  l1_loss: (dy, node) => {
    const g = l1LossBackward(dy, input(node, 0), input(node, 1));
    return [g.da, g.db];
  },

  // The teacher side of the KD loss is a constant: no gradient.
  kd_loss: (dy, node) => [kdLossBackward(dy, input(node, 0), input(node, 1), attrs(node).tau), null],

  bce_with_logits: (dy, node) => [bceWithLogitsBackward(dy, input(node, 0), attrs(node).target)],

  softmax: (dy, node) => [softmaxBackward(dy, node.output)],
  log_softmax: (dy, node) => [logSoftmaxBackward(dy, node.output)],

  reduce_sum: (dy, node) => [reduceBackward(dy, input(node, 0).shape, { dim: attrs(node).dim, alpha: 1 })],
  reduce_mean: (dy, node) => {
    const x = input(node, 0);
    const dim = attrs(node).dim as number | undefined;
    const n = dim === undefined ? x.size : x.shape[dim < 0 ? dim + x.rank : dim];
    return [reduceBackward(dy, x.shape, { dim, alpha: 1 / n })];
  },
  reduce_max: (dy, node) => [reduceMaxBackward(dy, input(node, 0), node.output, attrs(node).dim)],

  // y = mh · x · mwᵀ is linear in x: dx = mhᵀ · dy · mw. The matrices are constants (resize and
  // filter weights), so they get no gradient, like kd_loss's teacher.
  resize_separable: (dy, node) => [resizeSeparable(dy, transposed(input(node, 1)), transposed(input(node, 2))), null, null],

  clamp: (dy, node) => [clampBackward(dy, input(node, 0), attrs(node).min, attrs(node).max)],

  // Core-level composite (no kernel): a view with another shape.
  reshape: (dy, node) => [dy.reshape(input(node, 0).shape)],
};
