// What `kdsr eval` and training validation share: test pairs synthesised deterministically from an
// HR folder (exactly the images `kdsr make-benchmark` writes), super-resolution with a teacher or a
// student, and the metrics of both conventions on the 8-bit SR image.
import * as path from 'path';
import { Tensor, tidy } from '@kdsr/cuda';
import { KdsrStudent, KdsrTeacher, noGrad, upscale } from '@kdsr/core';
import {
  benchmarkPair,
  decodeImageFile,
  HostImage,
  imageToTensor,
  listImageFiles,
  psnrBasicsr,
  psnrKdsr,
  quantizeImage,
  ssimBasicsr,
  ssimKdsr,
  tensorToImage,
  TestSetting,
} from '@kdsr/data';

export interface TestPair {
  name: string;
  /** HR cropped to a multiple of the scale. */
  hr: HostImage;
  /** LR (1, 3, h, w) on the CPU, 8-bit levels. */
  lr: Tensor;
}

/**
 * Every image of `hrDir` under every setting: pairs[j][i] is image i under setting j. An image
 * that cannot be read or degraded goes to `onFailure` (path, reason) and is left out; without
 * onFailure it is an error naming the file.
 */
export async function testPairs(
  hrDir: string,
  settings: readonly TestSetting[],
  seed: number,
  onProgress?: (done: number, total: number) => void,
  onFailure?: (file: string, reason: string) => void,
): Promise<TestPair[][]> {
  const files = await listImageFiles(hrDir);
  if (files.length === 0) throw new Error(`no images in ${hrDir}`);
  const pairs: TestPair[][] = settings.map(() => []);
  for (let i = 0; i < files.length; i++) {
    const file = path.join(hrDir, files[i]);
    try {
      const { rgb } = await decodeImageFile(file);
      // All settings first, so that a failure leaves no setting with the image.
      const made = settings.map((setting, j) => ({ name: files[i], ...benchmarkPair(rgb, setting, j, i, seed) }));
      made.forEach((pair, j) => pairs[j].push(pair));
    } catch (error) {
      const message = (error as Error).message;
      const reason = message.includes(file) ? message : `${file}: ${message}`;
      if (!onFailure) throw new Error(reason);
      onFailure(file, reason);
    }
    onProgress?.(i + 1, files.length);
  }
  if (pairs[0].length === 0) throw new Error(`none of the ${files.length} images in ${hrDir} could be used`);
  return pairs;
}

export interface SrOptions {
  tile: number;
  overlap: number;
  selfEnsemble?: boolean;
}

/**
 * The SR image of an LR image. A student upscales blind (tiled); a teacher's encoder also sees the
 * HR image, so it runs on the whole image at once (an upper bound, used to validate stage 1).
 */
export function superResolve(model: KdsrTeacher | KdsrStudent, lr: Tensor, hr: HostImage, options: SrOptions): HostImage {
  const device = model.G.head.at(0).weight.value.device;
  return noGrad(() =>
    tidy(() => {
      const sr =
        model instanceof KdsrStudent
          ? upscale(model, lr, { tile: options.tile, overlap: options.overlap, selfEnsemble: options.selfEnsemble })
          : model.forward(lr.to(device), imageToTensor(hr, device)).sr;
      return tensorToImage(sr);
    }),
  );
}

export interface ImageScores {
  /** KDSR-classic: PSNR on ΔY (/256 coefficients), SSIM on Y, `scale` pixels shaved. */
  psnr: number;
  ssim: number;
  /** BasicSR: Y channel (BT.601), `scale` pixels cropped. */
  psnrBasicsr: number;
  ssimBasicsr: number;
}

/** Both conventions on the SR image quantised to 8 bits, as the reference evaluations save and reread it. */
export function scoreImage(sr: HostImage, hr: HostImage, scale: number): ImageScores {
  const sr8 = quantizeImage(sr);
  const hr8 = quantizeImage(hr);
  return { psnr: psnrKdsr(sr8, hr8, scale), ssim: ssimKdsr(sr8, hr8, scale), psnrBasicsr: psnrBasicsr(sr8, hr8, scale), ssimBasicsr: ssimBasicsr(sr8, hr8, scale) };
}

export function meanScores(scores: readonly ImageScores[]): ImageScores {
  const mean = (key: keyof ImageScores) => scores.reduce((s, x) => s + x[key], 0) / scores.length;
  return { psnr: mean('psnr'), ssim: mean('ssim'), psnrBasicsr: mean('psnrBasicsr'), ssimBasicsr: mean('ssimBasicsr') };
}
