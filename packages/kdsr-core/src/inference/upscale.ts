// Super-resolution of whole images with bounded memory: the output goes to a sink tile by tile. The degradation representation D is
// computed once per image: the encoder runs on tiles extended by its receptive radius, and only
// each tile's own pixels enter the pooled sum, so D equals the whole-image D (up to summation
// order). The generator then runs tile by tile on tiles extended by `overlap` LR pixels, keeping
// only each tile's own output; its receptive field is far wider than any practical overlap, but
// the influence of distant pixels decays, so the seams stay below 8-bit quantisation for the
// overlaps used here (see test/upscale.test.ts). On the CPU with oneDNN both run planned
// (planned-network.ts: blocked layouts, fused convolutions, D's kernels computed once per image);
// elsewhere layer by layer through the modules.
import { Tensor, tidy } from '@kdsr/cuda';
import { noGrad } from '../autograd/graph';
import type { KdsrStudent } from '../models/kdsr';
import { crop, dihedral, HostImage, inverseDihedral, paste } from './image-ops';
import { blockedChannelMeans, blockedRegionSums, PlannedGenerator, planLayout, plannedEncoderFeatures } from './planned-network';

export interface UpscaleOptions {
  /** Tile size in LR pixels (default 128); Infinity processes the image in one piece. */
  tile?: number;
  /** LR pixels added on each side of a generator tile (default 16). */
  overlap?: number;
  /** Average the eight flipped/transposed versions (×8 self-ensemble, 8 times slower). */
  selfEnsemble?: boolean;
  /** Called after each generator tile. */
  onProgress?: (done: number, total: number) => void;
  /** Checked between tiles (an AbortSignal, or anything with the same two fields). */
  signal?: { readonly aborted: boolean; readonly reason?: unknown };
}

/** The samples of a (B, 3, H, W) batch as host images. */
function toHost(image: Tensor): HostImage[] {
  if (image.rank !== 4 || image.shape[1] !== 3) throw new Error(`upscale: image must be (B, 3, H, W), got [${image.shape}]`);
  const [batch, , height, width] = image.shape;
  const data = image.toFloat32Array();
  const plane = 3 * height * width;
  return Array.from({ length: batch }, (_, b) => ({ channels: 3, height, width, data: data.subarray(b * plane, (b + 1) * plane) }));
}

function toTensor(image: HostImage, like: { device: string; dtype: 'float32' | 'float64' }): Tensor {
  const data = like.dtype === 'float64' ? Float64Array.from(image.data) : image.data;
  return Tensor.fromArray(data, [1, image.channels, image.height, image.width], like);
}

/** Splits 0..length into pieces of at most `tile`. */
function spans(length: number, tile: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let start = 0; start < length; start += tile) out.push([start, Math.min(length, start + tile)]);
  return out;
}

function checkAborted(signal?: UpscaleOptions['signal']): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('upscale: aborted');
}

/** D (1, C) of the whole image, from per-tile pooled sums of the encoder's feature maps. */
export function degradationRepresentation(model: KdsrStudent, image: HostImage, tile: number, like: { device: string; dtype: 'float32' | 'float64' }, signal?: UpscaleOptions['signal']): Tensor {
  const encoder = model.E_st;
  const layout = planLayout(model);
  const width4c = 4 * encoder.nFeats;
  // The 4C maps in a channel-blocked layout (the modules' NCHW maps are blocks of one channel).
  const featureMaps = (x: Tensor): Tensor => {
    if (layout) return plannedEncoderFeatures(encoder, x, layout);
    const [, , h, w] = x.shape;
    return encoder.featureMaps(x).reshape([1, width4c, h, w, 1]);
  };
  // One tile: the engine pools the whole image's feature maps, which never cross to the host.
  if (image.height <= tile && image.width <= tile) return tidy(() => encoder.fromPooled(blockedChannelMeans(featureMaps(toTensor(image, like)))).idr);
  const radius = encoder.receptiveRadius;
  const sums = new Float64Array(width4c);
  for (const [y0, y1] of spans(image.height, tile))
    for (const [x0, x1] of spans(image.width, tile)) {
      checkAborted(signal);
      const ey0 = Math.max(0, y0 - radius);
      const ex0 = Math.max(0, x0 - radius);
      const ey1 = Math.min(image.height, y1 + radius);
      const ex1 = Math.min(image.width, x1 + radius);
      const tileSums = tidy(() => {
        const maps = featureMaps(toTensor(crop(image, ey0, ex0, ey1 - ey0, ex1 - ex0), like));
        return blockedRegionSums(maps.toArray(), maps.shape, width4c, [y0 - ey0, y1 - ey0, x0 - ex0, x1 - ex0]);
      });
      tileSums.forEach((s, c) => (sums[c] += s));
    }
  const pooled = sums.map((s) => s / (image.height * image.width));
  return tidy(() => encoder.fromPooled(Tensor.fromArray(like.dtype === 'float64' ? pooled : Float32Array.from(pooled), [1, width4c], like)).idr);
}

/** Receives the SR image region by region: `tile` goes to rows top.., columns left.. of the output. */
export type TileSink = (tile: HostImage, top: number, left: number) => void;

/** Runs the generator tile by tile over `image`, handing each tile's own output region to `sink`. */
function generateTiles(model: KdsrStudent, image: HostImage, options: UpscaleOptions, like: { device: string; dtype: 'float32' | 'float64' }, sink: TileSink, progress: () => void): void {
  const s = model.config.scale;
  const tile = options.tile ?? 128;
  const overlap = options.overlap ?? 16;
  const d = degradationRepresentation(model, image, tile, like, options.signal);
  const layout = planLayout(model);
  const planned = layout && new PlannedGenerator(model.G, d, layout);
  try {
    for (const [y0, y1] of spans(image.height, tile))
      for (const [x0, x1] of spans(image.width, tile)) {
        checkAborted(options.signal);
        const ey0 = Math.max(0, y0 - overlap);
        const ex0 = Math.max(0, x0 - overlap);
        const ey1 = Math.min(image.height, y1 + overlap);
        const ex1 = Math.min(image.width, x1 + overlap);
        const sr = tidy(() => {
          const lr = toTensor(crop(image, ey0, ex0, ey1 - ey0, ex1 - ex0), like);
          return planned ? planned.run(lr).data : model.G.forward(lr, d).toFloat32Array();
        });
        const srTile: HostImage = { channels: 3, height: s * (ey1 - ey0), width: s * (ex1 - ex0), data: sr };
        sink(crop(srTile, s * (y0 - ey0), s * (x0 - ex0), s * (y1 - y0), s * (x1 - x0)), s * y0, s * x0);
        progress();
      }
  } finally {
    planned?.dispose();
    d.dispose();
  }
}

function checkFinite(image: HostImage): void {
  const i = image.data.findIndex((v) => !Number.isFinite(v));
  if (i < 0) return;
  const plane = image.height * image.width;
  throw new Error(`upscale: the image has a non-finite value (${image.data[i]}) at channel ${Math.floor(i / plane)}, row ${Math.floor((i % plane) / image.width)}, column ${i % image.width}; the output would be NaN`);
}

/**
 * Upscales one RGB image (3, H, W) in [0, 1] with the student network, handing the SR image to
 * `sink` tile by tile: memory stays at a few tiles beyond the input, whatever the image size. The
 * self-ensemble averages whole transformed images, so it holds a float copy of the output.
 */
export function upscaleImage(model: KdsrStudent, image: HostImage, sink: TileSink, options: UpscaleOptions = {}): void {
  const tile = options.tile ?? 128;
  const overlap = options.overlap ?? 16;
  if (!(tile >= 1)) throw new Error(`upscale: tile must be at least 1, got ${tile}`);
  if (!(overlap >= 0 && Number.isInteger(overlap))) throw new Error(`upscale: overlap must be a non-negative integer, got ${overlap}`);
  if (image.channels !== 3) throw new Error(`upscale: image must have 3 channels, got ${image.channels}`);
  checkFinite(image);
  noGrad(() => {
    const weight = model.G.head.at(0).weight.value;
    const like = { device: weight.device, dtype: weight.dtype };
    const transforms = options.selfEnsemble ? [0, 1, 2, 3, 4, 5, 6, 7] : [0];
    const total = transforms.length * Math.ceil(image.height / tile) * Math.ceil(image.width / tile);
    let done = 0;
    const progress = () => options.onProgress?.(++done, total);
    if (transforms.length === 1) return generateTiles(model, image, options, like, sink, progress);
    const s = model.config.scale;
    const sum: HostImage = { channels: 3, height: s * image.height, width: s * image.width, data: new Float32Array(3 * s * s * image.height * image.width) };
    for (const t of transforms) {
      const moved = dihedral(image, t);
      const out: HostImage = { channels: 3, height: s * moved.height, width: s * moved.width, data: new Float32Array(sum.data.length) };
      generateTiles(model, moved, options, like, (part, top, left) => paste(out, part, 0, 0, part.height, part.width, top, left), progress);
      const back = inverseDihedral(out, t);
      for (let i = 0; i < sum.data.length; i++) sum.data[i] += back.data[i];
    }
    for (let i = 0; i < sum.data.length; i++) sum.data[i] /= transforms.length;
    for (const [y0, y1] of spans(sum.height, s * tile)) for (const [x0, x1] of spans(sum.width, s * tile)) sink(crop(sum, y0, x0, y1 - y0, x1 - x0), y0, x0);
  });
}

/**
 * Upscales RGB images (B, 3, H, W) in [0, 1] with the student network, one sample at a time (each
 * with its own D); returns (B, 3, sH, sW) on the images' device, not clamped (clamp or quantise
 * when saving).
 */
export function upscale(model: KdsrStudent, image: Tensor, options: UpscaleOptions = {}): Tensor {
  const samples = toHost(image);
  const tile = options.tile ?? 128;
  const [, , height, width] = image.shape;
  const perSample = (options.selfEnsemble ? 8 : 1) * Math.ceil(height / tile) * Math.ceil(width / tile);
  const s = model.config.scale;
  const plane = 3 * s * s * height * width;
  const out = new Float32Array(samples.length * plane);
  samples.forEach((sample, b) => {
    const sr: HostImage = { channels: 3, height: s * height, width: s * width, data: out.subarray(b * plane, (b + 1) * plane) };
    upscaleImage(model, sample, (part, top, left) => paste(sr, part, 0, 0, part.height, part.width, top, left), {
      ...options,
      onProgress: options.onProgress && ((done) => options.onProgress!(b * perSample + done, samples.length * perSample)),
    });
  });
  return Tensor.fromArray(out, [samples.length, 3, s * height, s * width], { device: image.device });
}
