// `kdsr upscale`: images (or folders of images) through a student checkpoint with @kdsr/core's
// tiled upscale. Alpha is kept apart and enlarged with the KDSR bicubic; 16-bit inputs give 16-bit
// outputs where the format has them (PNG, TIFF). The SR image goes tile by tile into an 8/16-bit
// canvas (memory: the input, a few tiles and the output's samples), which is written atomically.
// Every input is tried: failures are reported and counted, and the run ends with a summary.
import * as path from 'path';
import { DEFAULT_MODEL, KdsrStudent, loadKdsrModel, upscaleImage } from '@kdsr/core';
import { bicubicKdsr, decodeImageFile, formatOfFile, HostImage, ImageCanvas, imageToTensor, tensorToImage } from '@kdsr/data';
import { makeDirectory, removeStaleTemporaryFiles, tidy } from '@kdsr/cuda';
import { BatchReport } from '../batch-report';
import { removingTemporariesOnSignal } from '../interrupt';
import { outNamesFile, planOutputs } from '../output-plan';
import { Progress } from '../progress';
import { noteReferenceCpuKernels } from '../reference-cpu-notice';

export interface UpscaleCommandOptions {
  /** A checkpoint, a bundled model's name, or undefined for the bundled default model. */
  model?: string;
  /** An image file (one input) or a folder; default: beside each input. */
  out?: string;
  /** Replace existing outputs. */
  overwrite: boolean;
  /** Tile size in LR pixels; 0 processes each image whole. */
  tile: number;
  tilePad: number;
  ensemble: boolean;
  device: string;
}

/** LR pixels of context for the bicubic (4 taps): enough for tiles to equal the whole image. */
const BICUBIC_PAD = 4;

/** The bicubic ×s of alpha's region (top, left, height, width) in LR pixels, from a crop with context. */
function alphaRegion(alpha: HostImage, s: number, top: number, left: number, height: number, width: number): HostImage {
  const y0 = Math.max(0, top - BICUBIC_PAD);
  const x0 = Math.max(0, left - BICUBIC_PAD);
  const y1 = Math.min(alpha.height, top + height + BICUBIC_PAD);
  const x1 = Math.min(alpha.width, left + width + BICUBIC_PAD);
  const data = new Float32Array((y1 - y0) * (x1 - x0));
  for (let y = y0; y < y1; y++) data.set(alpha.data.subarray(y * alpha.width + x0, y * alpha.width + x1), (y - y0) * (x1 - x0));
  const up = tidy(() => tensorToImage(bicubicKdsr(imageToTensor({ channels: 1, height: y1 - y0, width: x1 - x0, data }), s)));
  const out = new Float32Array(s * s * height * width);
  for (let y = 0; y < s * height; y++) {
    const from = (s * (top - y0) + y) * up.width + s * (left - x0);
    out.set(up.data.subarray(from, from + s * width), y * s * width);
  }
  return { channels: 1, height: s * height, width: s * width, data: out };
}

export async function upscaleImages(inputs: readonly string[], options: UpscaleCommandOptions): Promise<void> {
  // A new --out with an extension that is no image format is a mistyped file name, not a folder.
  if (options.out !== undefined && !outNamesFile(options.out) && path.extname(options.out) !== '') formatOfFile(options.out);
  const { model, info } = loadKdsrModel(options.model, { device: options.device });
  noteReferenceCpuKernels(options.device);
  const modelName = options.model ?? `${DEFAULT_MODEL} (bundled default)`;
  if (!(model instanceof KdsrStudent)) {
    model.dispose();
    throw new Error(`${modelName} is a stage-1 teacher: its encoder needs the HR image. Upscale with a stage-2 student checkpoint`);
  }
  const s = model.config.scale;
  const report = new BatchReport();
  let progress: Progress | null = null;
  try {
    const { outputs, skipped } = await planOutputs(inputs, { out: options.out, scale: s, overwrite: options.overwrite });
    for (const dir of new Set(outputs.map((o) => path.dirname(o.target)))) {
      makeDirectory(dir);
      removeStaleTemporaryFiles(dir);
    }
    process.stdout.write(`model ${modelName}: ${info.role} ${info.preset} x${s}${info.ema ? ' (EMA)' : ''}${info.step > 0 ? `, ${info.step.toLocaleString('en-US')} updates` : ''} on ${options.device}\n`);
    if (skipped.length > 0) process.stdout.write(`skipped ${skipped.length} earlier output${skipped.length > 1 ? 's' : ''} (${skipped.slice(0, 3).join(', ')}${skipped.length > 3 ? ', ...' : ''})\n`);
    const bar = new Progress('upscale [{bar}] {value}/{total} tiles | {file}', 1, 0, { file: '' });
    progress = bar;
    for (const { file, rel, target } of outputs)
      await report.item(
        file,
        async () => {
          const { rgb, alpha, info: imageInfo } = await decodeImageFile(file);
          if (imageInfo.frames > 1) bar.warn(`note: ${file} has ${imageInfo.frames} frames; only the first is upscaled`);
          const format = formatOfFile(target);
          const keepAlpha = alpha !== null && format !== 'jpeg';
          if (alpha && !keepAlpha) bar.log(`${file}: alpha channel dropped (JPEG has none)`);
          const bitDepth = imageInfo.bitDepth === 16 && (format === 'png' || format === 'tiff') ? 16 : 8;
          const canvas = new ImageCanvas(s * rgb.width, s * rgb.height, keepAlpha ? 4 : 3, bitDepth);
          upscaleImage(
            model,
            rgb,
            (tile, top, left) => {
              canvas.put(tile, top, left);
              if (keepAlpha) canvas.put(alphaRegion(alpha, s, top / s, left / s, tile.height / s, tile.width / s), top, left, 3);
            },
            {
              tile: options.tile === 0 ? Infinity : options.tile,
              overlap: options.tilePad,
              selfEnsemble: options.ensemble,
              onProgress: (done, total) => {
                bar.setTotal(total);
                bar.update(done, { file: rel });
              },
            },
          );
          if (canvas.nonFinite > 0) throw new Error(`the model gave ${canvas.nonFinite} non-finite (NaN) values for ${file}; ${modelName} is broken (a diverged training run?)`);
          await removingTemporariesOnSignal(() => canvas.write(target));
          bar.log(`${file} (${rgb.width}x${rgb.height}) -> ${target} (${canvas.width}x${canvas.height}${bitDepth === 16 ? ', 16-bit' : ''}${keepAlpha ? ', alpha' : ''})`);
        },
        (line) => bar.warn(line),
      );
  } finally {
    progress?.stop();
    model.dispose();
  }
  process.stdout.write(report.summary('upscaled') + '\n');
}
