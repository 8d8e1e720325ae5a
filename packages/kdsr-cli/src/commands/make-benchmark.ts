// `kdsr make-benchmark`: an HR folder to LR folders of fixed test settings (@kdsr/data).
import { generateBenchmarkSet, parseTestSettings } from '@kdsr/data';
import { withProgress } from '../progress';

export interface MakeBenchmarkOptions {
  hr: string;
  out: string;
  scale: number;
  settings: string[];
  seed: number;
}

export async function makeBenchmark(options: MakeBenchmarkOptions): Promise<string> {
  const settings = options.settings.flatMap((spec) => parseTestSettings(spec, options.scale));
  const manifest = await withProgress('make-benchmark', (onProgress) => generateBenchmarkSet({ hrDir: options.hr, outDir: options.out, settings, seed: options.seed, onProgress }));
  return `${manifest.images.length} images x ${settings.length} settings -> ${options.out}: ${manifest.folders.join(', ')} and manifest.json`;
}
