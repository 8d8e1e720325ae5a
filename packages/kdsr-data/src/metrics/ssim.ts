// SSIM (Wang et al. 2004, as the official MATLAB code and both references compute it) on Y planes.
import { lumaBasicsr, lumaKdsr } from './color';
import { checkBorder, MetricImage, rgbPair } from './image-input';

const WINDOW = 11;
const WINDOW_SIGMA = 1.5;

/** The normalised 11-tap Gaussian (sigma 1.5) whose outer product is the SSIM window. */
export function ssimWindow1d(): Float64Array {
  const taps = new Float64Array(WINDOW);
  const c = (WINDOW - 1) / 2;
  let sum = 0;
  for (let i = 0; i < WINDOW; i++) sum += taps[i] = Math.exp(-((i - c) ** 2) / (2 * WINDOW_SIGMA * WINDOW_SIGMA));
  for (let i = 0; i < WINDOW; i++) taps[i] /= sum;
  return taps;
}

/** Valid-mode separable correlation of an (h, w) plane with the window: (h - 10, w - 10). */
function filterValid(src: Float64Array, h: number, w: number, taps: Float64Array): Float64Array {
  const oh = h - WINDOW + 1;
  const ow = w - WINDOW + 1;
  const rows = new Float64Array(h * ow);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < ow; j++) {
      let s = 0;
      for (let t = 0; t < WINDOW; t++) s += taps[t] * src[i * w + j + t];
      rows[i * ow + j] = s;
    }
  const out = new Float64Array(oh * ow);
  for (let i = 0; i < oh; i++)
    for (let j = 0; j < ow; j++) {
      let s = 0;
      for (let t = 0; t < WINDOW; t++) s += taps[t] * rows[(i + t) * ow + j];
      out[i * ow + j] = s;
    }
  return out;
}

/** Mean SSIM of two (h, w) planes in 0..peak units (peak 255: C1 = (0.01·255)², C2 = (0.03·255)²). */
export function ssimPlanes(a: Float64Array, b: Float64Array, h: number, w: number, peak = 255): number {
  if (a.length !== h * w || b.length !== h * w) throw new Error(`ssim: planes must hold ${h}x${w} values`);
  if (h < WINDOW || w < WINDOW) throw new Error(`ssim: a ${h}x${w} plane is smaller than the ${WINDOW}x${WINDOW} window`);
  const c1 = (0.01 * peak) ** 2;
  const c2 = (0.03 * peak) ** 2;
  const taps = ssimWindow1d();
  const products = (f: (i: number) => number) => Float64Array.from({ length: h * w }, (_, i) => f(i));
  const mu1 = filterValid(a, h, w, taps);
  const mu2 = filterValid(b, h, w, taps);
  const e11 = filterValid(products((i) => a[i] * a[i]), h, w, taps);
  const e22 = filterValid(products((i) => b[i] * b[i]), h, w, taps);
  const e12 = filterValid(products((i) => a[i] * b[i]), h, w, taps);
  let sum = 0;
  for (let i = 0; i < mu1.length; i++) {
    const m1 = mu1[i];
    const m2 = mu2[i];
    const s11 = e11[i] - m1 * m1;
    const s22 = e22[i] - m2 * m2;
    const s12 = e12[i] - m1 * m2;
    sum += ((2 * m1 * m2 + c1) * (2 * s12 + c2)) / ((m1 * m1 + m2 * m2 + c1) * (s11 + s22 + c2));
  }
  return sum / mu1.length;
}

/** KDSR-classic SSIM (utility.calc_ssim): Y = (65.738 R + 129.057 G + 25.064 B)/255 + 16, ceil(scale) pixels cropped. */
export function ssimKdsr(sr: MetricImage, hr: MetricImage, scale: number): number {
  const [a, b] = rgbPair(sr, hr, 'ssimKdsr');
  const border = Math.ceil(scale);
  checkBorder(a.height, a.width, border, WINDOW, 'ssimKdsr');
  return ssimPlanes(lumaKdsr(a, border), lumaKdsr(b, border), a.height - 2 * border, a.width - 2 * border);
}

/** BasicSR SSIM on the Y channel with `cropBorder` pixels removed per side. */
export function ssimBasicsr(sr: MetricImage, hr: MetricImage, cropBorder: number): number {
  const [a, b] = rgbPair(sr, hr, 'ssimBasicsr');
  checkBorder(a.height, a.width, cropBorder, WINDOW, 'ssimBasicsr');
  return ssimPlanes(lumaBasicsr(a, cropBorder), lumaBasicsr(b, cropBorder), a.height - 2 * cropBorder, a.width - 2 * cropBorder);
}
