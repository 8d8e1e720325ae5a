// Benchmark-set generation: HR folder -> LR images of every test setting, written deterministically.
// Image i under setting j uses the Philox stream RandomStream(seed).fork(j).fork(i), so the output
// depends only on (seed, settings, file list), never on processing order.
import * as path from 'path';
import { Tensor, tidy, writeFileAtomicSync } from '@kdsr/cuda';
import { listImageFiles } from '../datasets/image-files';
import { cropToMultiple, HostImage } from '../image/host-image';
import { decodeImageFile, writeImage } from '../image/io';
import { degradeClassic } from './classic';
import { gaussianKernel } from './kernels';
import { RandomStream } from './random-stream';
import { TestSetting } from './test-settings';

export interface BenchmarkSetOptions {
  hrDir: string;
  outDir: string;
  settings: readonly TestSetting[];
  /** Seed of the noise streams (default 0). */
  seed?: number;
  /** Extensions to pick up (default: all readable formats). */
  extensions?: readonly string[];
  /** Called after each image with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface BenchmarkSetManifest {
  seed: number;
  settings: TestSetting[];
  /** HR files (relative to hrDir), in stream order. */
  images: string[];
  /** Output folders: `HR_x<s>` (HR cropped to a multiple of s) and one per setting name. */
  folders: string[];
}

/** The output name of an input file: same relative path, extension .png. */
function pngName(rel: string): string {
  return rel.slice(0, rel.length - path.extname(rel).length) + '.png';
}

/**
 * Image `imageIndex` under setting `settingIndex` of a benchmark set: the HR cropped to a multiple of
 * the scale and its LR (1, 3, h, w), quantised to 8 bits, degraded with the noise stream
 * RandomStream(seed).fork(settingIndex).fork(imageIndex). Evaluations that synthesise their LR with
 * this see exactly the images generateBenchmarkSet writes.
 */
export function benchmarkPair(rgb: HostImage, setting: TestSetting, settingIndex: number, imageIndex: number, seed = 0): { hr: HostImage; lr: Tensor } {
  const hr = cropToMultiple(rgb, setting.scale);
  const lr = tidy(() => {
    const x = Tensor.fromArray(hr.data, [1, 3, hr.height, hr.width]);
    const kernel = setting.kernel ? gaussianKernel(setting.kernel) : null;
    const stream = new RandomStream(seed).fork(settingIndex).fork(imageIndex);
    return degradeClassic(x, { scale: setting.scale, kernels: kernel, noiseSigma: setting.noise }, { stream }).lr;
  });
  return { hr, lr };
}

export async function generateBenchmarkSet(options: BenchmarkSetOptions): Promise<BenchmarkSetManifest> {
  const seed = options.seed ?? 0;
  const names = new Set<string>();
  for (const s of options.settings) {
    if (names.has(s.name)) throw new Error(`generateBenchmarkSet: duplicate setting name '${s.name}'`);
    names.add(s.name);
  }
  const images = await listImageFiles(options.hrDir, { extensions: options.extensions });
  if (images.length === 0) throw new Error(`generateBenchmarkSet: no images in ${options.hrDir}`);
  const scales = [...new Set(options.settings.map((s) => s.scale))];
  for (let i = 0; i < images.length; i++) {
    const rel = images[i];
    const { rgb } = await decodeImageFile(path.join(options.hrDir, rel));
    for (const s of scales) await writeImage(path.join(options.outDir, `HR_x${s}`, pngName(rel)), cropToMultiple(rgb, s));
    for (let j = 0; j < options.settings.length; j++) {
      const { lr } = benchmarkPair(rgb, options.settings[j], j, i, seed);
      try {
        await writeImage(path.join(options.outDir, options.settings[j].name, pngName(rel)), lr);
      } finally {
        lr.dispose();
      }
    }
    options.onProgress?.(i + 1, images.length);
  }
  const manifest: BenchmarkSetManifest = {
    seed,
    settings: options.settings.map((s) => ({ ...s })),
    images,
    folders: [...scales.map((s) => `HR_x${s}`), ...options.settings.map((s) => s.name)],
  };
  writeFileAtomicSync(path.join(options.outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
