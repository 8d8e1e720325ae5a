// Images on the host as planar float arrays: the form decoders produce, workers pass around and
// metrics read. Tensors are made from these only where the engine takes over.
import { Tensor } from '@kdsr/cuda';

/** Planar (C, H, W) float image, values nominally in [0, 1]. */
export interface HostImage {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

export function hostImage(channels: number, height: number, width: number): HostImage {
  return { data: new Float32Array(channels * height * width), channels, height, width };
}

/** Round half to even, as torch.round / np.round (the references' rounding). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  // Math.round rounds halves up; step back on exact halves whose upward neighbour is odd.
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** round(clamp(levels * v, 0, levels)) / levels, half to even: the references' quantisation. */
export function quantizeValue(v: number, levels = 255): number {
  const s = Math.min(Math.max(v * levels, 0), levels);
  return roundHalfEven(s) / levels;
}

/** A quantised copy of an image (8-bit levels by default). */
export function quantizeImage(image: HostImage, levels = 255): HostImage {
  const data = new Float32Array(image.data.length);
  for (let i = 0; i < data.length; i++) data[i] = quantizeValue(image.data[i], levels);
  return { ...image, data };
}

/** (1, C, H, W) tensor of a host image. */
export function imageToTensor(image: HostImage, device = 'cpu'): Tensor {
  return Tensor.fromArray(image.data, [1, image.channels, image.height, image.width], { device });
}

/** Sample `index` of a (B, C, H, W) or (C, H, W) tensor as a host image (float32). */
export function tensorToImage(t: Tensor, index = 0): HostImage {
  if (t.rank !== 3 && t.rank !== 4) throw new Error(`expected an image tensor (B,C,H,W) or (C,H,W), got shape [${t.shape.join(',')}]`);
  const [batch, channels, height, width] = t.rank === 4 ? t.shape : [1, ...t.shape];
  if (!(index >= 0 && index < batch)) throw new Error(`sample ${index} out of range for a batch of ${batch}`);
  const plane = channels * height * width;
  const all = t.toFloat32Array();
  return { data: all.slice(index * plane, (index + 1) * plane), channels, height, width };
}

/** Every sample of a (B, C, H, W) tensor as host images. */
export function tensorToImages(t: Tensor): HostImage[] {
  if (t.rank !== 4) throw new Error(`expected a batch (B,C,H,W), got shape [${t.shape.join(',')}]`);
  const [batch, channels, height, width] = t.shape;
  const plane = channels * height * width;
  const all = t.toFloat32Array();
  const out: HostImage[] = [];
  for (let b = 0; b < batch; b++) out.push({ data: all.slice(b * plane, (b + 1) * plane), channels, height, width });
  return out;
}

/** Stacks same-sized host images into one (B, C, H, W) tensor. */
export function imagesToTensor(images: readonly HostImage[], device = 'cpu'): Tensor {
  if (images.length === 0) throw new Error('imagesToTensor: no images');
  const { channels, height, width } = images[0];
  const plane = channels * height * width;
  const data = new Float32Array(images.length * plane);
  images.forEach((im, b) => {
    if (im.channels !== channels || im.height !== height || im.width !== width)
      throw new Error(`imagesToTensor: image ${b} is ${im.channels}x${im.height}x${im.width}, expected ${channels}x${height}x${width}`);
    data.set(im.data, b * plane);
  });
  return Tensor.fromArray(data, [images.length, channels, height, width], { device });
}

/** Top-left anchored crop. */
export function cropImage(image: HostImage, top: number, left: number, height: number, width: number): HostImage {
  if (top < 0 || left < 0 || top + height > image.height || left + width > image.width || height < 1 || width < 1)
    throw new Error(`crop ${height}x${width} at (${top},${left}) does not fit in a ${image.height}x${image.width} image`);
  const out = hostImage(image.channels, height, width);
  for (let c = 0; c < image.channels; c++)
    for (let i = 0; i < height; i++) {
      const src = (c * image.height + top + i) * image.width + left;
      out.data.set(image.data.subarray(src, src + width), (c * height + i) * width);
    }
  return out;
}

/** Crops to H - H mod s, W - W mod s from the top-left (the benchmark convention). */
export function cropToMultiple(image: HostImage, scale: number): HostImage {
  const h = image.height - (image.height % scale);
  const w = image.width - (image.width % scale);
  if (h < 1 || w < 1) throw new Error(`a ${image.height}x${image.width} image is smaller than the scale ${scale}`);
  return h === image.height && w === image.width ? image : cropImage(image, 0, 0, h, w);
}
