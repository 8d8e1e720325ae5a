// PSNR in the two conventions of spec section 3. Images are used as given: quantise them first
// (quantizeImage) where the convention evaluates 8-bit images.
import { KDSR_Y, lumaBasicsr } from './color';
import { checkBorder, MetricImage, rgbPair } from './image-input';

/**
 * KDSR-classic benchmark PSNR (utility.calc_psnr): dY = (65.738 dR + 129.057 dG + 25.064 dB) / 256 of
 * d = sr - hr in [0, 1] units, `scale` pixels shaved per side, -10 log10(mean dY²). +Infinity when equal.
 */
export function psnrKdsr(sr: MetricImage, hr: MetricImage, scale: number): number {
  const [a, b] = rgbPair(sr, hr, 'psnrKdsr');
  checkBorder(a.height, a.width, scale, 1, 'psnrKdsr');
  const plane = a.height * a.width;
  let sum = 0;
  let n = 0;
  for (let i = scale; i < a.height - scale; i++)
    for (let j = scale; j < a.width - scale; j++) {
      const p = i * a.width + j;
      const dy = (KDSR_Y[0] * (a.data[p] - b.data[p]) + KDSR_Y[1] * (a.data[plane + p] - b.data[plane + p]) + KDSR_Y[2] * (a.data[2 * plane + p] - b.data[2 * plane + p])) / 256;
      sum += dy * dy;
      n++;
    }
  return -10 * Math.log10(sum / n);
}

/** KDSR-classic PSNR for non-benchmark sets: all three channels, `scale + 6` pixels shaved per side. */
export function psnrKdsrRgb(sr: MetricImage, hr: MetricImage, scale: number): number {
  const [a, b] = rgbPair(sr, hr, 'psnrKdsrRgb');
  const shave = scale + 6;
  checkBorder(a.height, a.width, shave, 1, 'psnrKdsrRgb');
  let sum = 0;
  let n = 0;
  for (let c = 0; c < 3; c++)
    for (let i = shave; i < a.height - shave; i++)
      for (let j = shave; j < a.width - shave; j++) {
        const p = (c * a.height + i) * a.width + j;
        const d = a.data[p] - b.data[p];
        sum += d * d;
        n++;
      }
  return -10 * Math.log10(sum / n);
}

/** BasicSR PSNR on the Y channel: 10 log10(255² / MSE) over Y planes with `cropBorder` pixels removed per side. */
export function psnrBasicsr(sr: MetricImage, hr: MetricImage, cropBorder: number): number {
  const [a, b] = rgbPair(sr, hr, 'psnrBasicsr');
  checkBorder(a.height, a.width, cropBorder, 1, 'psnrBasicsr');
  return psnrPlanes(lumaBasicsr(a, cropBorder), lumaBasicsr(b, cropBorder), 255);
}

/** 10 log10(peak² / MSE) of two planes. */
export function psnrPlanes(a: ArrayLike<number>, b: ArrayLike<number>, peak: number): number {
  if (a.length !== b.length || a.length === 0) throw new Error(`psnr: planes of ${a.length} and ${b.length} values`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return 10 * Math.log10((peak * peak) / (sum / a.length));
}
