// `kdsr upscale`: images (or folders of images) through a student checkpoint with @kdsr/core's
// tiled upscale. Alpha is kept apart and enlarged with the KDSR bicubic; 16-bit inputs give 16-bit
// outputs where the format has them (PNG, TIFF).
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_MODEL, KdsrStudent, loadKdsrModel, upscale } from '@kdsr/core';
import { bicubicKdsr, formatOfFile, IMAGE_EXTENSIONS, listImageFiles, readImage, writeImage } from '@kdsr/data';
import { dispose } from '@kdsr/cuda';
import { Progress } from '../progress';

export interface UpscaleCommandOptions {
  /** A checkpoint, a bundled model's name, or undefined for the bundled default model. */
  model?: string;
  /** An image file (one input) or a folder; default: beside each input. */
  out?: string;
  /** Tile size in LR pixels; 0 processes each image whole. */
  tile: number;
  tilePad: number;
  ensemble: boolean;
  device: string;
}

/** Input files: files as given, folders expanded to their images (relative paths kept for the output). */
async function inputFiles(inputs: readonly string[]): Promise<Array<{ file: string; rel: string }>> {
  const out: Array<{ file: string; rel: string }> = [];
  for (const input of inputs) {
    if (!fs.existsSync(input)) throw new Error(`${input}: no such file or folder`);
    if (fs.statSync(input).isDirectory()) {
      const found = await listImageFiles(input);
      if (found.length === 0) throw new Error(`${input}: no images in this folder`);
      for (const rel of found) out.push({ file: path.join(input, rel), rel });
    } else out.push({ file: input, rel: path.basename(input) });
  }
  return out;
}

export async function upscaleImages(inputs: readonly string[], options: UpscaleCommandOptions): Promise<void> {
  const files = await inputFiles(inputs);
  const toFile = options.out !== undefined && IMAGE_EXTENSIONS[path.extname(options.out).toLowerCase()] !== undefined;
  if (toFile && files.length !== 1) throw new Error(`--out ${options.out} names one image but there are ${files.length} inputs; give a folder`);
  // A new --out with an extension that is no image format is a mistyped file name, not a folder.
  if (options.out !== undefined && !toFile && path.extname(options.out) !== '' && !fs.existsSync(options.out)) formatOfFile(options.out);
  const { model, info } = loadKdsrModel(options.model, { device: options.device });
  const modelName = options.model ?? `${DEFAULT_MODEL} (bundled default)`;
  if (!(model instanceof KdsrStudent)) {
    model.dispose();
    throw new Error(`${modelName} is a stage-1 teacher: its encoder needs the HR image. Upscale with a stage-2 student checkpoint`);
  }
  const s = model.config.scale;
  const destination = ({ file, rel }: { file: string; rel: string }) => {
    if (toFile) return options.out!;
    const name = `${rel.slice(0, rel.length - path.extname(rel).length)}_x${s}.png`;
    return options.out !== undefined ? path.join(options.out, name) : path.join(path.dirname(file), path.basename(name));
  };
  process.stdout.write(`model ${modelName}: ${info.role} ${info.preset} x${s}${info.ema ? ' (EMA)' : ''}${info.step > 0 ? `, ${info.step.toLocaleString('en-US')} updates` : ''} on ${options.device}\n`);
  const progress = new Progress('upscale [{bar}] {value}/{total} tiles | {file}', 1, 0, { file: '' });
  try {
    for (const { file, rel } of files) {
      const { image, alpha, info: imageInfo } = await readImage(file);
      const target = destination({ file, rel });
      const format = formatOfFile(target);
      try {
        const out = upscale(model, image, {
          tile: options.tile === 0 ? Infinity : options.tile,
          overlap: options.tilePad,
          selfEnsemble: options.ensemble,
          onProgress: (done, total) => {
            progress.setTotal(total);
            progress.update(done, { file: rel });
          },
        });
        const alphaUp = alpha && format !== 'jpeg' ? bicubicKdsr(alpha, s) : null;
        if (alpha && format === 'jpeg') progress.log(`${file}: alpha channel dropped (JPEG has none)`);
        const bitDepth = imageInfo.bitDepth === 16 && (format === 'png' || format === 'tiff') ? 16 : 8;
        try {
          await writeImage(target, out, { bitDepth, alpha: alphaUp });
        } finally {
          dispose([out, alphaUp]);
        }
        progress.log(`${file} (${imageInfo.width}x${imageInfo.height}) -> ${target} (${s * imageInfo.width}x${s * imageInfo.height}${bitDepth === 16 ? ', 16-bit' : ''}${alphaUp ? ', alpha' : ''})`);
      } finally {
        dispose([image, alpha]);
      }
    }
  } finally {
    progress.stop();
    model.dispose();
  }
}
