// The training batches of `kdsr train` (every stage): random HR crops of the dataset with the LR
// synthesised per batch, by the classic degradation (iso / aniso, KDSR-classic) or by Real-ESRGAN's
// second-order pipeline (realesrgan, KDSR-GAN), where the loader crops 400/256 of the final HR patch
// (the recipe degrades 400px crops into 256px pairs) and the pipeline crops the pair out of it.
// Batches are made a step ahead in a worker thread (PrefetchingSource), so the step never waits for
// the synthesis of its batch.
import * as os from 'os';
import { ClassicSampler, Dataset, KDSRGAN_DEGRADATION, PrefetchingSource } from '@kdsr/data';

export type DegradationKind = 'iso' | 'aniso' | 'realesrgan';

/** The smallest --patch whose crop leaves the 21x21 blurs room at the smallest resize of the pipeline. */
export const REALESRGAN_MIN_PATCH = 24;

export interface TrainingDataOptions {
  batch: number;
  patch: number;
  seed: number;
  degradation: DegradationKind;
  noise: number;
  workers?: number;
  device: string;
}

export function trainingSource(dataset: Dataset, scale: number, o: TrainingDataOptions): PrefetchingSource {
  const common = { dataset, batchSize: o.batch, scale, seed: o.seed, workers: o.workers ?? Math.max(1, os.cpus().length - 1), device: o.device };
  if (o.degradation !== 'realesrgan') return new PrefetchingSource({ ...common, lrPatch: o.patch, sampler: new ClassicSampler({ blur: o.degradation, noiseLevel: o.noise }) });
  if (o.patch < REALESRGAN_MIN_PATCH) throw new Error(`--degradation realesrgan needs --patch ${REALESRGAN_MIN_PATCH} or more (the pipeline shrinks its crops up to 0.15x before blurring with 21x21 kernels), got ${o.patch}`);
  return new PrefetchingSource({
    ...common,
    lrPatch: Math.ceil((o.patch * 400) / 256),
    realesrgan: { options: { ...KDSRGAN_DEGRADATION, scale, gtSize: o.patch * scale } },
  });
}
