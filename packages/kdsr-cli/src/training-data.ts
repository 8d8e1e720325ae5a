// The training batches of `kdsr train` (every stage): random HR crops of the dataset with the LR
// synthesised per batch, by the classic degradation (iso / aniso, KDSR-classic) or by Real-ESRGAN's
// second-order pipeline (realesrgan, KDSR-GAN), where the loader crops 400/256 of the final HR patch
// (the recipe degrades 400px crops into 256px pairs) and the pipeline crops the pair out of it, and
// batches are mixed through the recipe's training-pair pool. Batches are made a step ahead in a
// worker thread (PrefetchingSource), so the step never waits for the synthesis of its batch.
import * as os from 'os';
import { ClassicSampler, Dataset, KDSRGAN_DEGRADATION, PrefetchingSource } from '@kdsr/data';

export type DegradationKind = 'iso' | 'aniso' | 'realesrgan';

/** The smallest --patch whose crop leaves the 21x21 blurs room at the smallest resize of the pipeline. */
export const REALESRGAN_MIN_PATCH = 24;
/** The recipe's training-pair pool (queue_size, spec 2.11). */
export const REALESRGAN_POOL = 180;

export interface TrainingDataOptions {
  batch: number;
  patch: number;
  seed: number;
  degradation: DegradationKind;
  /** The classic degradation's noise level N (σn ~ U(0, N)); given for realesrgan, refused. */
  noise?: number;
  /** realesrgan: the training-pair pool's size; 0: none. */
  pool?: number;
  workers?: number;
  device: string;
}

/** The classic degradation's noise level N (iso: 0, aniso: 25 unless given); the second-order pipeline draws its own noise. */
export function trainingNoise(o: Pick<TrainingDataOptions, 'degradation' | 'noise'>): number {
  if (o.degradation !== 'realesrgan') return o.noise ?? (o.degradation === 'aniso' ? 25 : 0);
  if (o.noise !== undefined) throw new Error('--noise is for --degradation iso|aniso; realesrgan draws its own Gaussian / Poisson noise');
  return 0;
}

/** The training-pair pool's size: realesrgan's default is the recipe's 180 pairs rounded to a multiple of the batch; 0 for none. */
export function trainingPool(o: Pick<TrainingDataOptions, 'degradation' | 'pool' | 'batch'>): number {
  if (o.degradation !== 'realesrgan') {
    if (o.pool !== undefined) throw new Error('--pool is for --degradation realesrgan (the classic degradations draw per batch without a pool)');
    return 0;
  }
  if (o.pool === undefined) return Math.max(1, Math.round(REALESRGAN_POOL / o.batch)) * o.batch;
  if (o.pool % o.batch !== 0) throw new Error(`--pool ${o.pool} must be a multiple of --batch ${o.batch} (or 0 for no pool)`);
  return o.pool;
}

export function trainingSource(dataset: Dataset, scale: number, o: TrainingDataOptions): PrefetchingSource {
  const common = { dataset, batchSize: o.batch, scale, seed: o.seed, workers: o.workers ?? Math.max(1, os.cpus().length - 1), device: o.device };
  if (o.degradation !== 'realesrgan') return new PrefetchingSource({ ...common, lrPatch: o.patch, sampler: new ClassicSampler({ blur: o.degradation, noiseLevel: trainingNoise(o) }) });
  if (o.patch < REALESRGAN_MIN_PATCH) throw new Error(`--degradation realesrgan needs --patch ${REALESRGAN_MIN_PATCH} or more (the pipeline shrinks its crops up to 0.15x before blurring with 21x21 kernels), got ${o.patch}`);
  return new PrefetchingSource({
    ...common,
    lrPatch: Math.ceil((o.patch * 400) / 256),
    realesrgan: { options: { ...KDSRGAN_DEGRADATION, scale, gtSize: o.patch * scale }, pool: trainingPool(o) },
  });
}
