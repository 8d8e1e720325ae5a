// The student network planned for CPU inference. Once D is known, the generator is a static CNN (every
// IDR-DDC kernel is fixed for the image and shared by its tiles), so it runs as a chain of the engine's
// inference-only blocked ops: activations stay in the one layout oneDNN's convolutions run fastest in
// on this CPU (NHWC, nChw8c or nChw16c: conv2dBlockSize) from the first convolution to the last, with
// no conversion between layers; LeakyReLU and the residual adds are fused into the convolutions (oneDNN
// post-ops), each residual add accumulating into the tensor it updates; every activation is disposed
// as soon as its last consumer ran, so the body holds three feature maps at a time, and the
// upsampler, whose activations are s² times larger, runs in bands of rows (PlannedGenerator); the
// caching allocator hands the same blocks to the next layer, band and tile. The encoder's feature
// maps run the same way. The layer-by-layer modules remain the definition (and the path for CUDA,
// float64 and builds without oneDNN); test/planned-network.test.ts holds the two together.
import {
  buildInfo,
  channelAffine,
  conv2dBlocked,
  conv2dBlockSize,
  cpuImplementation,
  dynDwconvBlocked,
  fromBlocked,
  keep,
  pixelShuffleBlocked,
  reduceMean,
  sliceChannels,
  Tensor,
  toBlocked,
} from '@kdsr/cuda';
import { noGrad } from '../autograd/graph';
import type { Encoder } from '../models/encoder';
import type { Generator } from '../models/generator';
import { IDR_NEGATIVE_SLOPE, IdrDdc, IdrGroup } from '../models/idr';
import type { KdsrStudent } from '../models/kdsr';
import { Conv2d, LeakyReLU, Linear, MeanShift, PixelShuffle, ResBlock, Sequential } from '../nn/layers';
import type { Module } from '../nn/module';
import { HostImage, paste } from './image-ops';

/** Rows [from, to) of a blocked (1, Cb, H, W, b) tensor: per channel block, a contiguous run of rows. */
function sliceRows(x: Tensor, from: number, to: number): Tensor {
  const [batch, blocks, height, width, block] = x.shape;
  if (batch !== 1) throw new Error(`planned inference: one image at a time, got [${x.shape}]`);
  // As (blocks, H, W*b, 1), rows are what slice_channels slices.
  const view = x.reshape([blocks, height, width * block, 1]);
  const rows = sliceChannels(view, from, to - from);
  view.dispose();
  const band = rows.reshape([1, blocks, to - from, width, block]);
  rows.dispose();
  return band;
}

/** The activation layout of a plan: the channel block for each channel count. */
export class BlockedLayout {
  /** family: 0 for NHWC (one block of all channels), else the block size (1 is NCHW). */
  constructor(readonly family: number) {}

  /** The block of the activations convolutions produce. */
  block(channels: number): number {
    return this.family === 0 ? channels : this.family;
  }

  /**
   * The block of a network input (an image, 3 channels): NCHW where its channels would only partly
   * fill a block, the layout of oneDNN's first-layer convolutions (with 3 of 16 lanes they fall back
   * to a reference kernel, seconds instead of milliseconds).
   */
  inputBlock(channels: number): number {
    return this.family === 0 || channels % this.family === 0 ? this.block(channels) : 1;
  }
}

/**
 * The layout for planning this model's inference, or null where the planned path does not apply:
 * it needs float32 weights on the CPU and oneDNN (built in and preferred).
 */
export function planLayout(model: KdsrStudent): BlockedLayout | null {
  const weight = (model.G.body.at(1) as Conv2d).weight.value;
  if (weight.device !== 'cpu' || weight.dtype !== 'float32' || buildInfo().onednn === null || cpuImplementation() !== 'onednn') return null;
  return new BlockedLayout(conv2dBlockSize(weight));
}

function conv(x: Tensor, layer: Conv2d, layout: BlockedLayout, options: { negativeSlope?: number; residual?: Tensor } = {}): Tensor {
  const weight = layer.weight.value;
  return conv2dBlocked(x, weight, layer.bias?.value ?? null, { block: layout.block(weight.shape[0]), ...options });
}

/** Runs a Sequential of Conv2d (each fused with a LeakyReLU that follows it) and ResBlocks on blocked x; disposes x. */
function runConvChain(layers: readonly Module[], x: Tensor, layout: BlockedLayout): Tensor {
  let h = x;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    let next: Tensor;
    if (layer instanceof Conv2d) {
      const activation = layers[i + 1];
      const negativeSlope = activation instanceof LeakyReLU ? activation.negativeSlope : undefined;
      if (negativeSlope !== undefined) i++;
      next = conv(h, layer, layout, { negativeSlope });
      h.dispose();
    } else if (layer instanceof ResBlock) {
      const [first, activation, second] = layer.body.layers as [Conv2d, LeakyReLU, Conv2d];
      const branch = conv(h, first, layout, { negativeSlope: activation.negativeSlope });
      next = conv(branch, second, layout, { residual: h }); // h + conv(branch), written over h
      branch.dispose();
      h.dispose();
    } else {
      throw new Error(`planned inference: unexpected layer ${layer.constructor.name} in a convolution chain`);
    }
    h = next;
  }
  return h;
}

/** The encoder's 4C feature maps of x (B, 3, H, W), as Encoder.featureMaps computes them, blocked (layout.block(4C)). */
export function plannedEncoderFeatures(encoder: Encoder, x: Tensor, layout: BlockedLayout): Tensor {
  return noGrad(() => runConvChain(encoder.E.layers, toBlocked(x, layout.inputBlock(encoder.inChannels)), layout));
}

/** Per-channel means (1, C) of blocked maps (1, C/b, H, W, b) holding C unpadded channels, on the engine. */
export function blockedChannelMeans(maps: Tensor): Tensor {
  const [batch, blocks, height, width, block] = maps.shape;
  if (batch !== 1) throw new Error(`planned inference: one image at a time, got [${maps.shape}]`);
  const view = maps.reshape([blocks, height * width, block]);
  const means = reduceMean(view, 1);
  view.dispose();
  const pooled = means.reshape([1, blocks * block]);
  means.dispose();
  return pooled;
}

/** Per-channel sums of rows [y0, y1) and columns [x0, x1) of blocked maps read back to the host (shape (1, C/b, H, W, b)). */
export function blockedRegionSums(data: ArrayLike<number>, shape: readonly number[], channels: number, [y0, y1, x0, x1]: readonly number[]): Float64Array {
  const [, , height, width, block] = shape;
  const sums = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const base = Math.floor(c / block) * height * width * block + (c % block);
    let s = 0;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) s += data[base + (y * width + x) * block];
    sums[c] = s;
  }
  return sums;
}

/** y = x * scale + shift per channel (NCHW): a MeanShift, whose 1x1 convolution is this when its weight is diagonal. */
class ChannelShift {
  private constructor(
    private readonly scale: Tensor,
    private readonly module: MeanShift,
  ) {}

  /** The affine form of a MeanShift with a diagonal weight (EDSR's, rgb_std = 1), else null. */
  static of(module: MeanShift): ChannelShift | null {
    const w = module.weight.value.toArray();
    const [c] = module.weight.shape;
    for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) if (i !== j && w[i * c + j] !== 0) return null;
    const diagonal = Array.from({ length: c }, (_, i) => w[i * c + i]);
    return new ChannelShift(keep(Tensor.fromArray(Float32Array.from(diagonal), [c])), module);
  }

  apply(x: Tensor): Tensor {
    return channelAffine(x, this.scale, this.module.bias.value);
  }

  dispose(): void {
    this.scale.dispose();
  }
}

/** A MeanShift as a per-channel affine map where it is one (a pass over the image instead of a GEMM), else as its convolution. */
function meanShift(x: Tensor, module: MeanShift, affine: ChannelShift | null): Tensor {
  return affine ? affine.apply(x) : module.forward(x);
}

/**
 * D's IDR-DDC kernels (1, C, k, k) for one block, k = W2 · LeakyReLU(W1 · D) as IdrDdc computes them
 * (its two layers have no bias),
 * on the host in double precision (rounded once to float32): 53 matrix-vector products of 64 and 576
 * rows per image, which as engine ops each paid a parallel region's start-up (0.4 s per image on the
 * loaded 2-core VM).
 */
function idrKernels(ddc: IdrDdc, d: ArrayLike<number>): Tensor {
  const [first, activation, second] = ddc.kernel.layers as [Linear, LeakyReLU, Linear];
  const matVec = (layer: Linear, x: ArrayLike<number>): Float64Array => {
    const [rows, cols] = layer.weight.shape;
    const w = layer.weight.value.toArray();
    const y = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += w[r * cols + c] * x[c];
      y[r] = s;
    }
    return y;
  };
  const hidden = matVec(first, d).map((v) => (v > 0 ? v : activation.negativeSlope * v));
  const kernels = Float32Array.from(matVec(second, hidden));
  return keep(Tensor.fromArray(kernels, [1, ddc.channels, ddc.kernelSize, ddc.kernelSize]));
}

/** The upsampler's stages as they run on blocked activations. */
type TailStage = { kind: 'conv'; conv: Conv2d } | { kind: 'shuffle'; factor: number };

/**
 * LR rows of context a band of the tail needs on each side so that its rows equal the whole image's:
 * walking back from the output, a 3x3 convolution at r times the LR resolution needs one more row of
 * its input (1/r LR rows), a pixel shuffle by f needs ceil(m / f) input rows for m output rows.
 */
function tailHalo(stages: readonly TailStage[]): number {
  let margin = 0; // rows at the current resolution, from the output backwards
  for (const stage of [...stages].reverse()) {
    if (stage.kind === 'conv') margin += Math.floor(stage.conv.weight.shape[2] / 2);
    else margin = Math.ceil(margin / stage.factor);
  }
  return margin;
}

/** The upsampler's working memory by default: it runs in bands of LR rows whose widest pair of activations fits this. */
export const TAIL_BAND_BYTES = 256 * 2 ** 20;

/**
 * The generator for one image: D's IDR-DDC kernels are computed once, then run() takes tiles (or the
 * whole image) through the blocked chain. The body runs on the whole input; the upsampler, whose
 * activations are s² times larger, in bands of rows with enough context (tailHalo) that each band's
 * output rows are the ones the whole image gives, so its memory is bounded (tailBandBytes). The
 * result is assembled on the host. dispose() frees the kernels.
 */
export class PlannedGenerator {
  private readonly kernels: Tensor[];
  private readonly subMean: ChannelShift | null;
  private readonly addMean: ChannelShift | null;
  private readonly tail: TailStage[];
  private readonly halo: number;
  private readonly tailBandBytes: number;

  /** d: D (1, C) of the image. */
  constructor(
    readonly generator: Generator,
    d: Tensor,
    readonly layout: BlockedLayout,
    options: { tailBandBytes?: number } = {},
  ) {
    this.tailBandBytes = options.tailBandBytes ?? TAIL_BAND_BYTES;
    if (d.shape[0] !== 1) throw new Error(`planned inference: one image at a time, got D [${d.shape}]`);
    const group = generator.body.at(0) as IdrGroup;
    this.subMean = ChannelShift.of(generator.sub_mean);
    this.addMean = ChannelShift.of(generator.add_mean);
    this.tail = [
      ...(generator.tail.at(0) as Sequential).layers.map((layer): TailStage => (layer instanceof PixelShuffle ? { kind: 'shuffle', factor: layer.factor } : { kind: 'conv', conv: layer as Conv2d })),
      { kind: 'conv', conv: generator.tail.at(1) as Conv2d },
    ];
    this.halo = tailHalo(this.tail);
    const dHost = d.toArray();
    this.kernels = group.body.layers.map((block) => idrKernels(block.da_conv1, dHost));
  }

  /** SR (3, sH, sW) of lr (1, 3, H, W) on the host, not clamped. */
  run(lr: Tensor): HostImage {
    return noGrad(() => {
      const [, , height, width] = lr.shape;
      const s = this.generator.config.scale;
      const out: HostImage = { channels: 3, height: s * height, width: s * width, data: new Float32Array(3 * s * s * height * width) };
      const features = this.body(lr);
      const bytesPerRow = 2 * this.generator.config.nFeats * s * s * width * 4;
      const band = Math.max(1, Math.floor(this.tailBandBytes / bytesPerRow) - 2 * this.halo);
      for (let y0 = 0; y0 < height; y0 += band) {
        const y1 = Math.min(height, y0 + band);
        const [from, to] = [Math.max(0, y0 - this.halo), Math.min(height, y1 + this.halo)];
        const input = from === 0 && to === height ? features : sliceRows(features, from, to);
        const rows = this.upsample(input);
        if (input !== features) input.dispose();
        const sr: HostImage = { channels: 3, height: s * (to - from), width: s * width, data: rows.toFloat32Array() };
        rows.dispose();
        paste(out, sr, s * (y0 - from), 0, s * (y1 - y0), s * width, s * y0, 0);
      }
      features.dispose();
      return out;
    });
  }

  /** The features after the long skip (blocked, C channels at the LR size). */
  private body(lr: Tensor): Tensor {
    const g = this.generator;
    const layout = this.layout;
    const shifted = meanShift(lr, g.sub_mean, this.subMean);
    const image = toBlocked(shifted, layout.inputBlock(3));
    shifted.dispose();
    const f = conv(image, g.head.at(0), layout);
    image.dispose();
    // The first block's residual add would overwrite f, which the long skip needs: it adds into a copy.
    let h = f.to(f.device);
    (g.body.at(0) as IdrGroup).body.layers.forEach((block, i) => {
      const a = dynDwconvBlocked(h, this.kernels[i], { negativeSlope: IDR_NEGATIVE_SLOPE });
      const next = conv(a, block.conv1, layout, { residual: h }); // h + conv1(LeakyReLU(DDC(h))), over h
      a.dispose();
      h.dispose();
      h = next;
    });
    const features = conv(h, g.body.at(1) as Conv2d, layout, { residual: f }); // the long skip, over f
    h.dispose();
    f.dispose();
    return features;
  }

  /** SR rows (1, 3, s*rows, sW) of a band of features. */
  private upsample(band: Tensor): Tensor {
    const c = this.generator.config.nFeats;
    let t = band;
    for (const stage of this.tail) {
      const next = stage.kind === 'shuffle' ? pixelShuffleBlocked(t, stage.factor, { channels: c, block: this.layout.block(c) }) : conv(t, stage.conv, this.layout);
      if (t !== band) t.dispose();
      t = next;
    }
    const planes = fromBlocked(t, 3);
    t.dispose();
    const sr = meanShift(planes, this.generator.add_mean, this.addMean);
    planes.dispose();
    return sr;
  }

  dispose(): void {
    for (const k of this.kernels) k.dispose();
    this.subMean?.dispose();
    this.addMean?.dispose();
  }
}
