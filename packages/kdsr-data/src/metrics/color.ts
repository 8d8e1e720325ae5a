// Luma conversions of the two evaluation conventions (spec section 3).
import { HostImage } from '../image/host-image';

/** BasicSR / MATLAB rgb2ycbcr (BT.601 studio swing), R, G, B in [0, 1], rows of the 3x3 matrix per output. */
const BT601 = [
  [65.481, 128.553, 24.966, 16],
  [-37.797, -74.203, 112.0, 128],
  [112.0, -93.786, -18.214, 128],
] as const;

/** KDSR-classic's luma coefficients (applied to levels 0..255 and divided by 256 or 255). */
export const KDSR_Y = [65.738, 129.057, 25.064] as const;

/**
 * Y of BasicSR's convention in 0..255 units: 16 + (65.481 R + 128.553 G + 24.966 B) / 255 with R, G, B
 * the image values times 255, over rows/columns [border, size - border). Float64, not rounded.
 */
export function lumaBasicsr(image: HostImage, border = 0): Float64Array {
  const { height, width } = image;
  const plane = height * width;
  const h = height - 2 * border;
  const w = width - 2 * border;
  const y = new Float64Array(h * w);
  const [cr, cg, cb] = BT601[0];
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      const p = (i + border) * width + j + border;
      // (v * 255) / 255 * coefficient: the levels cancel to v * coefficient.
      y[i * w + j] = 16 + cr * image.data[p] + cg * image.data[plane + p] + cb * image.data[2 * plane + p];
    }
  return y;
}

/** Y of KDSR-classic's SSIM in 0..255 units: (65.738 R + 129.057 G + 25.064 B) / 255 + 16, R, G, B = 255 v. */
export function lumaKdsr(image: HostImage, border = 0): Float64Array {
  const { height, width } = image;
  const plane = height * width;
  const h = height - 2 * border;
  const w = width - 2 * border;
  const y = new Float64Array(h * w);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      const p = (i + border) * width + j + border;
      y[i * w + j] = (KDSR_Y[0] * 255 * image.data[p] + KDSR_Y[1] * 255 * image.data[plane + p] + KDSR_Y[2] * 255 * image.data[2 * plane + p]) / 255 + 16;
    }
  return y;
}

/** BasicSR rgb2ycbcr of an RGB image in [0, 1]: (Y, Cb, Cr) / 255, planar, values in [0, 1]. */
export function rgbToYCbCr(image: HostImage): HostImage {
  const plane = image.height * image.width;
  const data = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    const r = image.data[p];
    const g = image.data[plane + p];
    const b = image.data[2 * plane + p];
    for (let k = 0; k < 3; k++) {
      const [cr, cg, cb, offset] = BT601[k];
      data[k * plane + p] = (cr * r + cg * g + cb * b + offset) / 255;
    }
  }
  return { data, channels: 3, height: image.height, width: image.width };
}
