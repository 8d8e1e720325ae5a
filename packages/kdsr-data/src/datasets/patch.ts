// Training patches: a random crop (paired LR/HR crops stay aligned) and the KDSR-classic
// augmentations, horizontal flip, vertical flip and transpose (H <-> W), each with probability 1/2.
import { HostImage, hostImage } from '../image/host-image';

/** The random numbers one sample consumes, drawn up front so workers need no generator. */
export interface PatchChoice {
  /** Crop position as fractions in [0, 1) of the valid range. */
  top: number;
  left: number;
  hflip: boolean;
  vflip: boolean;
  transpose: boolean;
}

export interface PatchSpec {
  /** LR patch size; the HR patch is lrPatch * scale. */
  lrPatch: number;
  scale: number;
  choice: PatchChoice;
  /** Pad images smaller than the patch (bottom/right, reflect-101) instead of skipping them. */
  padSmall?: boolean;
}

/** Crop origin in `size` for a patch of `patch`, from a fraction u in [0, 1). */
export function cropOrigin(size: number, patch: number, u: number): number {
  return Math.min(Math.floor(u * (size - patch + 1)), size - patch);
}

/** Applies the flips and the transpose of `choice` to a square-or-not planar image. */
export function augment(image: HostImage, choice: Pick<PatchChoice, 'hflip' | 'vflip' | 'transpose'>): HostImage {
  const { channels, height, width } = image;
  const [oh, ow] = choice.transpose ? [width, height] : [height, width];
  const out = hostImage(channels, oh, ow);
  for (let c = 0; c < channels; c++) {
    const src = image.data.subarray(c * height * width, (c + 1) * height * width);
    const dst = out.data.subarray(c * oh * ow, (c + 1) * oh * ow);
    for (let i = 0; i < height; i++) {
      const si = choice.vflip ? height - 1 - i : i;
      for (let j = 0; j < width; j++) {
        const sj = choice.hflip ? width - 1 - j : j;
        const v = src[si * width + sj];
        if (choice.transpose) dst[j * ow + i] = v;
        else dst[i * ow + j] = v;
      }
    }
  }
  return out;
}

/** OpenCV BORDER_REFLECT_101 index for any offset (period 2(n - 1)). */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** Pads bottom and right with reflect-101 to at least height x width (Real-ESRGAN's GT preparation). */
export function padBottomRight(image: HostImage, height: number, width: number): HostImage {
  const oh = Math.max(height, image.height);
  const ow = Math.max(width, image.width);
  if (oh === image.height && ow === image.width) return image;
  const out = hostImage(image.channels, oh, ow);
  for (let c = 0; c < image.channels; c++)
    for (let i = 0; i < oh; i++) {
      const si = reflect101(i, image.height);
      for (let j = 0; j < ow; j++) out.data[(c * oh + i) * ow + j] = image.data[(c * image.height + si) * image.width + reflect101(j, image.width)];
    }
  return out;
}
