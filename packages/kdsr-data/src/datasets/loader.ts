// Training batches: random patches (LR patch × scale on the HR side), flips and transposes, decoded
// in worker threads ahead of use, stacked into (B, 3, P, P) tensors. Everything random is drawn on
// the main thread from (seed, epoch, position), and results are consumed in order, so a seed gives
// the same batches whatever the number of workers or their timing.
import * as os from 'os';
import { Tensor } from '@kdsr/cuda';
import { HostImage } from '../image/host-image';
import { Dataset, datasetLength } from './dataset';
import { PatchChoice, PatchSpec } from './patch';
import { hashSeed, Prng } from './prng';
import { SampleResult } from './sample-decoder';
import { DecodePool } from './worker-pool';

export interface LoaderOptions {
  dataset: Dataset;
  batchSize: number;
  /** LR patch side; HR patches are lrPatch × scale. */
  lrPatch: number;
  scale: number;
  /**
   * Random horizontal flip, vertical flip and transpose, each with probability 1/2 (true, the
   * default: all three, as KDSR-classic); an object picks some (Real-ESRGAN: { hflip: true }).
   */
  augment?: boolean | { hflip?: boolean; vflip?: boolean; transpose?: boolean };
  /** Pad HR-only images smaller than the patch (bottom/right, reflect-101, as Real-ESRGAN) instead of skipping them. */
  padSmall?: boolean;
  seed?: number;
  /** Decoding workers (default: CPU count - 1, at least 1). */
  workers?: number;
  /** Samples decoded ahead of use (default 2 batches). */
  prefetch?: number;
  /** Passes over the dataset per epoch (KDSR-classic repeats DF2K 18 times; default 1). */
  repeat?: number;
  /** Device of the batch tensors (default 'cpu'). */
  device?: string;
  /**
   * Makes the LR of HR-only batches on the main thread (e.g. a degradation sampler); paired
   * datasets bring their own LR. Receives the HR batch and the batch number within the epoch.
   */
  degrade?: (hr: Tensor, batchIndex: number) => { lr: Tensor; hr?: Tensor };
}

export interface Batch {
  /** (B, 3, P·s, P·s). */
  hr: Tensor;
  /** (B, 3, P, P): from the pair or from `degrade`; null for HR-only data without `degrade`. */
  lr: Tensor | null;
  /** Source of each sample. */
  names: string[];
  /** Number of this batch within its epoch (0 for the first). */
  index: number;
  /** Position in the epoch's order after this batch's last sample: `epoch(e, { position: next, batches: index + 1 })` continues after it. */
  next: number;
}

/** Where an epoch's iteration starts: a position in `order(epoch)` and the number of batches already made before it. */
export interface EpochStart {
  position: number;
  batches: number;
}

export interface LoaderStats {
  epoch: number;
  batches: number;
  samples: number;
  /** Draws skipped because the image is smaller than the HR patch. */
  skippedTooSmall: number;
  /** Items that failed to decode (each listed once). */
  failed: Array<{ name: string; message: string }>;
  seconds: number;
  samplesPerSecond: number;
}

export class PatchLoader {
  private readonly options: Required<Omit<LoaderOptions, 'degrade'>> & Pick<LoaderOptions, 'degrade'>;
  private pool: DecodePool | null = null;
  private readonly tooSmall = new Set<number>();
  private readonly broken = new Map<number, { name: string; message: string }>();
  private current: LoaderStats | null = null;

  constructor(options: LoaderOptions) {
    this.options = {
      augment: true,
      seed: 0,
      workers: Math.max(1, os.cpus().length - 1),
      prefetch: 2 * options.batchSize,
      repeat: 1,
      device: 'cpu',
      padSmall: false,
      ...options,
    };
    const { batchSize, lrPatch, scale, repeat, prefetch } = this.options;
    for (const [name, v] of Object.entries({ batchSize, lrPatch, scale, repeat, prefetch }))
      if (!Number.isInteger(v) || v < 1) throw new Error(`PatchLoader: ${name} must be a positive integer, got ${v}`);
    if (datasetLength(options.dataset) === 0) throw new Error('PatchLoader: the dataset is empty');
  }

  /** Statistics of the epoch in progress or last finished. */
  stats(): LoaderStats | null {
    return this.current ? { ...this.current, failed: [...this.current.failed] } : null;
  }

  /** The random choices of sample `position` of epoch `epoch`. */
  choice(epoch: number, position: number): PatchChoice {
    const r = new Prng(hashSeed(this.options.seed, epoch, position, 1));
    const a = this.options.augment;
    const on = typeof a === 'boolean' ? { hflip: a, vflip: a, transpose: a } : a;
    const top = r.uniform();
    const left = r.uniform();
    const [h, v, t] = [r.uniform(), r.uniform(), r.uniform()];
    return { top, left, hflip: !!on.hflip && h < 0.5, vflip: !!on.vflip && v < 0.5, transpose: !!on.transpose && t < 0.5 };
  }

  /** The item order of an epoch: the dataset repeated `repeat` times, shuffled. */
  order(epoch: number): number[] {
    const n = datasetLength(this.options.dataset);
    const order = Array.from({ length: n * this.options.repeat }, (_, i) => i % n);
    return new Prng(hashSeed(this.options.seed, epoch, 0)).shuffle(order);
  }

  /**
   * Batches of one epoch (incomplete last batch dropped), from the beginning or from `start` (a
   * batch's `next` and `index + 1`: the same batches follow as in an uninterrupted epoch). Tensors
   * belong to the caller.
   */
  async *epoch(epoch: number, start: EpochStart = { position: 0, batches: 0 }): AsyncGenerator<Batch> {
    const { dataset, batchSize, lrPatch, scale, workers, prefetch, device, degrade, padSmall } = this.options;
    const order = this.order(epoch);
    if (!Number.isInteger(start.position) || start.position < 0 || start.position > order.length || !Number.isInteger(start.batches) || start.batches < 0)
      throw new Error(`PatchLoader: cannot start epoch ${epoch} at position ${start.position} (0..${order.length}) after ${start.batches} batches`);
    this.pool ??= new DecodePool(dataset, workers);
    const pool = this.pool;
    const stats: LoaderStats = { epoch, batches: 0, samples: 0, skippedTooSmall: 0, failed: [...this.broken.values()], seconds: 0, samplesPerSecond: 0 };
    this.current = stats;
    const started = process.hrtime.bigint();
    const inFlight = new Map<number, Promise<SampleResult>>();
    let next = start.position;
    let batchIndex = start.batches;
    const launch = () => {
      while (next < order.length && inFlight.size < prefetch) {
        const position = next++;
        const index = order[position];
        // Known-bad items are not decoded again; they still count as skipped.
        if (this.tooSmall.has(index)) inFlight.set(position, Promise.resolve({ status: 'too-small', name: '', height: 0, width: 0 }));
        else if (this.broken.has(index)) inFlight.set(position, Promise.resolve({ status: 'error', name: '', message: '' }));
        else {
          const patch: PatchSpec = { lrPatch, scale, choice: this.choice(epoch, position), padSmall };
          inFlight.set(position, pool.sample(index, patch));
        }
      }
    };
    let hrs: HostImage[] = [];
    let lrs: HostImage[] = [];
    let names: string[] = [];
    for (let position = start.position; position < order.length; position++) {
      launch();
      const result = await inFlight.get(position)!;
      inFlight.delete(position);
      const index = order[position];
      if (result.status === 'too-small') {
        this.tooSmall.add(index);
        stats.skippedTooSmall++;
        continue;
      }
      if (result.status === 'error') {
        if (!this.broken.has(index)) {
          this.broken.set(index, { name: result.name, message: result.message });
          stats.failed.push({ name: result.name, message: result.message });
        }
        continue;
      }
      hrs.push(result.hr);
      if (result.lr) lrs.push(result.lr);
      names.push(result.name);
      if (hrs.length === batchSize) {
        const batch = { ...this.assemble(hrs, lrs, names, device, degrade, batchIndex), index: batchIndex, next: position + 1 };
        batchIndex++;
        hrs = [];
        lrs = [];
        names = [];
        stats.batches++;
        stats.samples += batchSize;
        stats.seconds = Number(process.hrtime.bigint() - started) / 1e9;
        stats.samplesPerSecond = stats.samples / stats.seconds;
        yield batch;
      }
    }
    stats.seconds = Number(process.hrtime.bigint() - started) / 1e9;
    stats.samplesPerSecond = stats.samples / Math.max(stats.seconds, 1e-9);
  }

  private assemble(hrs: HostImage[], lrs: HostImage[], names: string[], device: string, degrade: LoaderOptions['degrade'], batchIndex: number): Omit<Batch, 'index' | 'next'> {
    const stack = (images: HostImage[]) => {
      const { channels, height, width } = images[0];
      const plane = channels * height * width;
      const data = new Float32Array(images.length * plane);
      images.forEach((im, b) => data.set(im.data, b * plane));
      return Tensor.fromArray(data, [images.length, channels, height, width], { device });
    };
    let hr = stack(hrs);
    let lr = lrs.length > 0 ? stack(lrs) : null;
    if (!lr && degrade) {
      const out = degrade(hr, batchIndex);
      if (out.hr && out.hr !== hr) {
        hr.dispose();
        hr = out.hr;
      }
      lr = out.lr;
    }
    return { hr, lr, names };
  }

  /** Stops the decoding workers. */
  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = null;
  }
}
