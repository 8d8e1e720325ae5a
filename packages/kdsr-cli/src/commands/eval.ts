// `kdsr eval`: a checkpoint on an HR folder under fixed test settings. The LR images are synthesised
// deterministically (the same images `kdsr make-benchmark` writes for the same settings and seed),
// super-resolved, quantised to 8 bits and scored in both conventions @kdsr/data provides.
import { KdsrStudent, loadKdsrModel } from '@kdsr/core';
import { parseTestSettings } from '@kdsr/data';
import { BatchReport } from '../batch-report';
import { ImageScores, meanScores, scoreImage, superResolve, testPairs } from '../evaluation';
import { Progress, withProgress } from '../progress';

export interface EvalOptions {
  model: string;
  hr: string;
  settings: string[];
  scale?: number;
  tile: number;
  tilePad: number;
  ensemble: boolean;
  device: string;
  seed: number;
  json: boolean;
}

export interface EvalReport {
  model: string;
  role: string;
  scale: number;
  hr: string;
  seed: number;
  settings: Array<{ name: string; images: Array<{ name: string } & ImageScores>; mean: ImageScores }>;
  mean: ImageScores;
  /** Images left out: unreadable, or too small for the settings. */
  failed: Array<{ file: string; reason: string }>;
}

export function formatEvalReport(report: EvalReport): string {
  const width = Math.max(8, ...report.settings.map((s) => s.name.length));
  const row = (name: string, m: ImageScores) =>
    `${name.padEnd(width)}  ${m.psnr.toFixed(3).padStart(8)}  ${m.ssim.toFixed(4).padStart(7)}  ${m.psnrBasicsr.toFixed(3).padStart(8)}  ${m.ssimBasicsr.toFixed(4).padStart(7)}`;
  return [
    `${report.model} (${report.role}, x${report.scale}) on ${report.hr}, ${report.settings[0].images.length} images, LR seed ${report.seed}`,
    `${''.padEnd(width)}  ${'KDSR-classic'.padStart(17)}  ${'BasicSR (Y)'.padStart(17)}`,
    `${'setting'.padEnd(width)}  ${'PSNR'.padStart(8)}  ${'SSIM'.padStart(7)}  ${'PSNR'.padStart(8)}  ${'SSIM'.padStart(7)}`,
    ...report.settings.map((s) => row(s.name, s.mean)),
    ...(report.settings.length > 1 ? [row('mean', report.mean)] : []),
    ...(report.failed.length > 0 ? [`${report.settings[0].images.length} images scored, ${report.failed.length} failed (left out of the means): ${report.failed.map((f) => f.file).join(', ')}`] : []),
  ].join('\n');
}

export async function evaluate(options: EvalOptions): Promise<EvalReport> {
  const { model, info } = loadKdsrModel(options.model, { device: options.device });
  try {
    const scale = model.config.scale;
    if (options.scale !== undefined && options.scale !== scale) throw new Error(`--scale ${options.scale} does not match the model's x${scale}`);
    const settings = options.settings.flatMap((spec) => parseTestSettings(spec, scale));
    const names = new Set(settings.map((s) => s.name));
    if (names.size !== settings.length) throw new Error(`the settings ${options.settings.join(', ')} repeat a setting`);
    if (!(model instanceof KdsrStudent)) process.stderr.write(`note: ${options.model} is a teacher; its encoder sees the HR image (not blind SR)\n`);
    const failures = new BatchReport();
    const pairs = await withProgress('synthesise LR', (onProgress) => testPairs(options.hr, settings, options.seed, onProgress, (file, reason) => failures.fail(file, reason)));
    const progress = new Progress('evaluate [{bar}] {value}/{total} images | {setting}', settings.length * pairs[0].length, 0, { setting: '' });
    const results: EvalReport['settings'] = [];
    try {
      settings.forEach((setting, j) => {
        const images = pairs[j].map((pair, i) => {
          const sr = superResolve(model, pair.lr, pair.hr, { tile: options.tile === 0 ? Infinity : options.tile, overlap: options.tilePad, selfEnsemble: options.ensemble });
          progress.update(j * pairs[j].length + i + 1, { setting: setting.name });
          return { name: pair.name, ...scoreImage(sr, pair.hr, scale) };
        });
        results.push({ name: setting.name, images, mean: meanScores(images) });
      });
    } finally {
      progress.stop();
      for (const p of pairs.flat()) p.lr.dispose();
    }
    return { model: options.model, role: info.role, scale, hr: options.hr, seed: options.seed, settings: results, mean: meanScores(results.map((r) => r.mean)), failed: failures.failures };
  } finally {
    model.dispose();
  }
}
