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
