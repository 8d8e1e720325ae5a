// `kdsr eval`: a checkpoint on an HR folder under fixed test settings. The LR images are synthesised
// deterministically (the same images `kdsr make-benchmark` writes for the same settings and seed),
// super-resolved, quantised to 8 bits and scored in both conventions @kdsr/data provides, beside
// KDSR-bicubic upsampling of the same LR images as the baseline.
import { dispose, tidy, writeFileAtomicSync } from '@kdsr/cuda';
import { DEFAULT_MODEL, KdsrStudent, loadKdsrModel } from '@kdsr/core';
import { bicubicKdsr, HostImage, parseTestSettings, tensorToImage } from '@kdsr/data';
import { BatchReport } from '../batch-report';
import { ImageScores, meanScores, scoreImage, superResolve, testPairs } from '../evaluation';
import { Progress, withProgress } from '../progress';
import { noteReferenceCpuKernels } from '../reference-cpu-notice';
import { ReportImages, renderEvalReportHtml } from './eval-report-html';

export interface EvalOptions {
  /** A checkpoint, a bundled model's name, or undefined for the bundled default model. */
  model?: string;
  hr: string;
  settings: string[];
  scale?: number;
  tile: number;
  tilePad: number;
  ensemble: boolean;
  device: string;
  seed: number;
  json: boolean;
  /** Write a self-contained HTML page (crops and tables) to this file. */
  report?: string;
}

export interface ScoredImage extends ImageScores {
  name: string;
  bicubic: ImageScores;
}

export interface EvalReport {
  model: string;
  role: string;
  scale: number;
  hr: string;
  seed: number;
  settings: Array<{ name: string; images: ScoredImage[]; mean: ImageScores; bicubic: ImageScores }>;
  mean: ImageScores;
  bicubic: ImageScores;
  /** Images left out: unreadable, or too small for the settings. */
  failed: Array<{ file: string; reason: string }>;
}

export function formatEvalReport(report: EvalReport): string {
  const width = Math.max(8, ...report.settings.map((s) => s.name.length));
  const row = (name: string, m: ImageScores, b: ImageScores) =>
    `${name.padEnd(width)}  ${m.psnr.toFixed(3).padStart(8)}  ${m.ssim.toFixed(4).padStart(7)}  ${m.psnrBasicsr.toFixed(3).padStart(8)}  ${m.ssimBasicsr.toFixed(4).padStart(7)}  ${b.psnr.toFixed(3).padStart(8)}  ${b.ssim.toFixed(4).padStart(7)}`;
  return [
    `${report.model} (${report.role}, x${report.scale}) on ${report.hr}, ${report.settings[0].images.length} images, LR seed ${report.seed}`,
    `${''.padEnd(width)}  ${'KDSR-classic'.padStart(17)}  ${'BasicSR (Y)'.padStart(17)}  ${'bicubic (classic)'.padStart(17)}`,
    `${'setting'.padEnd(width)}  ${'PSNR'.padStart(8)}  ${'SSIM'.padStart(7)}  ${'PSNR'.padStart(8)}  ${'SSIM'.padStart(7)}  ${'PSNR'.padStart(8)}  ${'SSIM'.padStart(7)}`,
    ...report.settings.map((s) => row(s.name, s.mean, s.bicubic)),
    ...(report.settings.length > 1 ? [row('mean', report.mean, report.bicubic)] : []),
    ...(report.failed.length > 0 ? [`${report.settings[0].images.length} images scored, ${report.failed.length} failed (left out of the means): ${report.failed.map((f) => f.file).join(', ')}`] : []),
  ].join('\n');
}

/** The setting whose images the HTML report shows: the middle one (σ 2.6 of Gaussian8 at x4). */
export const reportedSetting = (count: number) => Math.floor(count / 2);

export async function evaluate(options: EvalOptions): Promise<EvalReport> {
  const modelName = options.model ?? `${DEFAULT_MODEL} (bundled)`;
  const { model, info } = loadKdsrModel(options.model, { device: options.device });
  noteReferenceCpuKernels(options.device);
  try {
    const scale = model.config.scale;
    if (options.scale !== undefined && options.scale !== scale) throw new Error(`--scale ${options.scale} does not match the model's x${scale}`);
    const settings = options.settings.flatMap((spec) => parseTestSettings(spec, scale));
    const names = new Set(settings.map((s) => s.name));
    if (names.size !== settings.length) throw new Error(`the settings ${options.settings.join(', ')} repeat a setting`);
    if (!(model instanceof KdsrStudent)) process.stderr.write(`note: ${modelName} is a teacher; its encoder sees the HR image (not blind SR)\n`);
    const failures = new BatchReport();
    const pairs = await withProgress('synthesise LR', (onProgress) => testPairs(options.hr, settings, options.seed, onProgress, (file, reason) => failures.fail(file, reason)));
    const progress = new Progress('evaluate [{bar}] {value}/{total} images | {setting}', settings.length * pairs[0].length, 0, { setting: '' });
    const results: EvalReport['settings'] = [];
    const shown: ReportImages[] = [];
    try {
      settings.forEach((setting, j) => {
        const images = pairs[j].map((pair, i) => {
          const sr = superResolve(model, pair.lr, pair.hr, { tile: options.tile === 0 ? Infinity : options.tile, overlap: options.tilePad, selfEnsemble: options.ensemble });
          const bicubic: HostImage = tidy(() => tensorToImage(bicubicKdsr(pair.lr, scale)));
          progress.update(j * pairs[j].length + i + 1, { setting: setting.name });
          const scored: ScoredImage = { name: pair.name, ...scoreImage(sr, pair.hr, scale), bicubic: scoreImage(bicubic, pair.hr, scale) };
          if (options.report && j === reportedSetting(settings.length)) shown.push({ name: pair.name, lr: tensorToImage(pair.lr), bicubic, sr, hr: pair.hr, scores: scored });
          return scored;
        });
        results.push({ name: setting.name, images, mean: meanScores(images), bicubic: meanScores(images.map((x) => x.bicubic)) });
      });
    } finally {
      progress.stop();
      dispose(pairs.flat().map((p) => p.lr));
    }
    const report: EvalReport = {
      model: modelName,
      role: info.role,
      scale,
      hr: options.hr,
      seed: options.seed,
      settings: results,
      mean: meanScores(results.map((r) => r.mean)),
      bicubic: meanScores(results.map((r) => r.bicubic)),
      failed: failures.failures,
    };
    if (options.report) writeFileAtomicSync(options.report, await renderEvalReportHtml(report, settings[reportedSetting(settings.length)].name, shown));
    return report;
  } finally {
    model.dispose();
  }
}
