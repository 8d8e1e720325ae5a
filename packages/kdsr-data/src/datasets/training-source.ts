// Endless training batches in the shape @kdsr/core's trainer asks for (its DataSource interface,
// met structurally: this package never imports core). Epochs of a PatchLoader follow one another;
// HR-only data gets its LR from the classic degradation on the fly, one kernel and noise level per
// batch unless the sampler says perSample. The position {epoch, position, batches} is the whole
// state: crops come from (seed, epoch, position) in the loader, and the degradation of batch b of
// epoch e draws from RandomStream(seed).fork(e).fork(b), so a restored source hands out exactly the
// batches the saved one would have. With `realesrgan`, HR-only batches get Real-ESRGAN's second-order
// degradation instead (KDSR-GAN's stages): the loader's crop is degraded whole, then LR and HR are
// cropped to the final patch (as the recipe degrades 400px crops into 256px pairs); the per-sample
// kernels come from fork(0) of the batch's stream, the rest of the pipeline from fork(1), and the
// recipe's training-pair pool (spec 2.11), if asked for, shuffles with fork(2). The pool's content is
// part of the position: saved as where each of its pairs came from (batch and sample), and made
// again from there by a restored source before its first batch.
import { dispose, Tensor } from '@kdsr/cuda';
import { ClassicSampler, degradeWithSampler } from '../degradation/samplers';
import { RandomStream } from '../degradation/random-stream';
import { KernelSamplerOptions, REALESRGAN_KERNELS, sampleKernels } from '../realesrgan/kernel-sampler';
import { TrainingPairPool } from '../realesrgan/pair-pool';
import { degradeSecondOrder, SecondOrderOptions } from '../realesrgan/second-order';
import { datasetLength } from './dataset';
import { Batch, LoaderOptions, PatchLoader } from './loader';
import { BatchOrigin, remakeBatches } from './remake-batches';

/** The loader's options (`device` is where batches are stacked and degraded) and the degradation draws. */
export interface TrainingSourceOptions extends Omit<LoaderOptions, 'degrade'> {
  /** Degradation draws for HR-only datasets (this or realesrgan is required for them); paired datasets bring their LR. */
  sampler?: ClassicSampler;
  /**
   * Real-ESRGAN's second-order degradation for HR-only datasets: `options.scale` must equal scale and
   * `options.gtSize` (the final HR patch) must not exceed the loader's lrPatch × scale crop. `pool`:
   * the training-pair pool's size Q, a multiple of batchSize (0 or absent: no pool).
   */
  realesrgan?: { options: SecondOrderOptions; kernels?: KernelSamplerOptions; pool?: number };
}

/** What identifies the stream a position belongs to; a state from another stream is refused. */
interface StreamIdentity {
  seed: number;
  items: number;
  batchSize: number;
  lrPatch: number;
  scale: number;
  repeat: number;
  /** Present only for the second-order degradation (so classic positions keep their identity). */
  secondOrderGt?: number;
  /** The training-pair pool's size, when there is one. */
  pool?: number;
}

interface PairOrigin {
  batch: BatchOrigin;
  sample: number;
}

/** The pool's pairs in the pool's order, each as [its batch in `batches`, its sample in that batch]. */
export interface PairPoolState {
  batches: BatchOrigin[];
  pairs: Array<[number, number]>;
}

export interface TrainingSourceState {
  /** Epoch of the next batch. */
  epoch: number;
  /** Position in the epoch's item order where the next batch starts. */
  position: number;
  /** Batches already handed out in this epoch (the next batch's number). */
  batches: number;
  stream: StreamIdentity;
  /** With a pool: what it holds. */
  pool?: PairPoolState;
}

function poolState(origins: ReadonlyArray<PairOrigin | undefined>): PairPoolState {
  const batches: BatchOrigin[] = [];
  const numbers = new Map<BatchOrigin, number>();
  const pairs = origins.map((o): [number, number] => {
    let n = numbers.get(o!.batch);
    if (n === undefined) {
      n = batches.push(o!.batch) - 1;
      numbers.set(o!.batch, n);
    }
    return [n, o!.sample];
  });
  return { batches, pairs };
}

function isPoolState(p: unknown): p is PairPoolState {
  const s = p as PairPoolState | null;
  return (
    !!s &&
    Array.isArray(s.batches) &&
    Array.isArray(s.pairs) &&
    s.batches.every((b) => [b?.epoch, b?.position, b?.index].every(Number.isInteger)) &&
    s.pairs.every((pair) => Array.isArray(pair) && Number.isInteger(pair[0]) && Number.isInteger(pair[1]) && pair[0] >= 0 && pair[0] < s.batches.length)
  );
}

export class TrainingSource {
  readonly loader: PatchLoader;
  private readonly identity: StreamIdentity;
  private epoch = 0;
  private position = 0;
  private batches = 0;
  private iterator: AsyncGenerator<Batch> | null = null;
  /** Whether the current iterator started at the beginning of its epoch and has yielded nothing yet. */
  private freshEpoch = false;
  private pool: TrainingPairPool<PairOrigin> | null = null;
  /** A restored pool's content, made again before the next batch. */
  private poolToRemake: PairPoolState | null = null;

  constructor(private readonly options: TrainingSourceOptions) {
    if (options.dataset.kind !== 'paired' && !options.sampler && !options.realesrgan) throw new Error('TrainingSource: an HR-only dataset needs a degradation sampler');
    const second = options.realesrgan?.options;
    if (second && (second.scale !== options.scale || second.gtSize > options.lrPatch * options.scale))
      throw new Error(
        `TrainingSource: the second-order degradation needs scale ${options.scale} (got ${second.scale}) and a final HR patch of at most the ${options.lrPatch * options.scale}px crop (got ${second.gtSize})`,
      );
    this.loader = new PatchLoader(options);
    this.identity = {
      seed: options.seed ?? 0,
      items: datasetLength(options.dataset),
      batchSize: options.batchSize,
      lrPatch: options.lrPatch,
      scale: options.scale,
      repeat: options.repeat ?? 1,
      ...(second ? { secondOrderGt: second.gtSize } : {}),
      ...(options.realesrgan?.pool ? { pool: options.realesrgan.pool } : {}),
    };
    if (this.identity.pool) this.pool = new TrainingPairPool(this.identity.pool, options.batchSize);
  }

  /** The next batch: lr (B, 3, P, P) and hr (B, 3, sP, sP) in [0, 1], owned by the caller. */
  async nextBatch(): Promise<{ lr: Tensor; hr: Tensor }> {
    if (this.poolToRemake) await this.remakePool(this.poolToRemake);
    for (;;) {
      if (!this.iterator) {
        this.freshEpoch = this.position === 0;
        this.iterator = this.loader.epoch(this.epoch, { position: this.position, batches: this.batches });
      }
      const start = this.position;
      const step = await this.iterator.next();
      if (!step.done) {
        this.freshEpoch = false;
        this.position = step.value.next;
        this.batches = step.value.index + 1;
        const pair = this.finish(step.value, this.epoch);
        return this.pool ? this.pooled(pair, { epoch: this.epoch, position: start, index: step.value.index }) : pair;
      }
      if (this.freshEpoch) {
        const stats = this.loader.stats();
        const failed = stats?.failed.length ?? 0;
        const tooSmall = stats?.skippedTooSmall ?? 0;
        const hrPatch = this.identity.lrPatch * this.identity.scale;
        // Name the real cause: unreadable images need repairing, small ones a smaller batch or patch.
        if (failed === this.identity.items)
          throw new Error(`no training image is readable (all ${failed}, e.g. ${stats!.failed[0].name}: ${stats!.failed[0].message}); check the images with kdsr scan`);
        throw new Error(
          `TrainingSource: epoch ${this.epoch} gave no complete batch of ${this.identity.batchSize} ` +
            `(${tooSmall} draws too small for a ${hrPatch}px HR patch, ${failed} unreadable images of ${this.identity.items}); ` +
            (tooSmall > 0 ? 'use a smaller batch or patch' : 'use a smaller batch, or add readable images'),
        );
      }
      this.iterator = null;
      this.epoch++;
      this.position = 0;
      this.batches = 0;
    }
  }

  /** The random stream of batch `index` of `epoch`. */
  private batchStream(epoch: number, index: number): RandomStream {
    return new RandomStream(this.identity.seed).fork(epoch).fork(index);
  }

  /** The batch, with the LR of HR-only data synthesised. */
  private finish(batch: Batch, epoch: number): { lr: Tensor; hr: Tensor } {
    if (batch.lr) return { lr: batch.lr, hr: batch.hr };
    const stream = this.batchStream(epoch, batch.index);
    const second = this.options.realesrgan;
    if (second) {
      const kernelStream = stream.fork(0);
      const draws = Array.from({ length: batch.hr.shape[0] }, () => sampleKernels(kernelStream, second.kernels ?? REALESRGAN_KERNELS));
      const kernels = { k1: draws.map((d) => d.k1), k2: draws.map((d) => d.k2), sinc: draws.map((d) => d.sinc) };
      const result = degradeSecondOrder(batch.hr, kernels, stream.fork(1), second.options);
      batch.hr.dispose();
      return { lr: result.lq, hr: result.gt };
    }
    const result = degradeWithSampler(batch.hr, this.options.sampler!, stream, this.identity.scale);
    result.lrPrequant.dispose();
    if (result.hr !== batch.hr) batch.hr.dispose();
    return { lr: result.lr, hr: result.hr };
  }

  /** The batch goes into the pool, and the pool's choice comes out. */
  private pooled(pair: { lr: Tensor; hr: Tensor }, origin: BatchOrigin): { lr: Tensor; hr: Tensor } {
    try {
      const origins = Array.from({ length: pair.lr.shape[0] }, (_, sample) => ({ batch: origin, sample }));
      const out = this.pool!.exchange(pair.lr, pair.hr, this.batchStream(origin.epoch, origin.index).fork(2), origins);
      return { lr: out.lq, hr: out.gt };
    } finally {
      dispose([pair.lr, pair.hr]);
    }
  }

  /** Makes the pairs of a saved pool (at least one) again, from their batches, and refills the (empty) pool with them. */
  private async remakePool(state: PairPoolState): Promise<void> {
    const n = state.pairs.length;
    const needed = new Map<number, number[]>(); // batch -> places in the pool's order
    state.pairs.forEach(([batch], place) => needed.set(batch, [...(needed.get(batch) ?? []), place]));
    let lq: Float32Array | null = null;
    let gt: Float32Array | null = null;
    let shapes: number[][] = [];
    const numbers = new Map(state.batches.map((b, i) => [b, i]));
    await remakeBatches(this.loader, [...needed.keys()].map((i) => state.batches[i]), (batch, origin) => {
      const pair = this.finish(batch, origin.epoch);
      try {
        const lqData = pair.lr.toFloat32Array();
        const gtData = pair.hr.toFloat32Array();
        const b = pair.lr.shape[0];
        if (!lq) {
          shapes = [pair.lr.shape.slice(1), pair.hr.shape.slice(1)];
          lq = new Float32Array((n * lqData.length) / b);
          gt = new Float32Array((n * gtData.length) / b);
        }
        const [lqPer, gtPer] = [lqData.length / b, gtData.length / b];
        for (const place of needed.get(numbers.get(origin)!)!) {
          const sample = state.pairs[place][1];
          lq.set(lqData.subarray(sample * lqPer, (sample + 1) * lqPer), place * lqPer);
          gt!.set(gtData.subarray(sample * gtPer, (sample + 1) * gtPer), place * gtPer);
        }
      } finally {
        dispose([pair.lr, pair.hr]);
      }
    });
    const device = this.options.device ?? 'cpu';
    const lqTensor = Tensor.fromArray(lq!, [n, ...shapes[0]], { device });
    const gtTensor = Tensor.fromArray(gt!, [n, ...shapes[1]], { device });
    try {
      this.pool!.restore(lqTensor, gtTensor, state.pairs.map(([batch, sample]) => ({ batch: state.batches[batch], sample })));
    } finally {
      dispose([lqTensor, gtTensor]);
    }
    this.poolToRemake = null;
  }

  saveState(): TrainingSourceState {
    const position = { epoch: this.epoch, position: this.position, batches: this.batches, stream: { ...this.identity } };
    if (!this.pool) return position;
    return { ...position, pool: this.poolToRemake ?? poolState(this.pool.origins()) };
  }

  /** Continues from a saveState() value (after a JSON round trip too). */
  restoreState(state: unknown): void {
    const s = state as Partial<TrainingSourceState> | null;
    if (!s || !Number.isInteger(s.epoch) || !Number.isInteger(s.position) || !Number.isInteger(s.batches) || !s.stream)
      throw new Error(`TrainingSource: not a saved training-source position: ${JSON.stringify(state)}`);
    const keys = new Set([...Object.keys(this.identity), ...Object.keys(s.stream)]) as Set<keyof StreamIdentity>;
    const differences = [...keys].filter((k) => s.stream![k] !== this.identity[k]);
    if (differences.length > 0)
      throw new Error(
        `TrainingSource: the saved position belongs to another data stream (${differences.map((k) => `${k} ${s.stream![k]} there, ${this.identity[k]} here`).join('; ')})`,
      );
    if (this.pool && !isPoolState(s.pool)) throw new Error(`TrainingSource: the saved position has no valid training-pair pool: ${JSON.stringify(s.pool)}`);
    void this.iterator?.return(undefined);
    this.iterator = null;
    this.epoch = s.epoch!;
    this.position = s.position!;
    this.batches = s.batches!;
    if (this.pool) {
      this.pool = new TrainingPairPool(this.pool.size, this.pool.batch);
      this.poolToRemake = s.pool!.pairs.length > 0 ? s.pool! : null;
    }
  }

  /** Stops the decoding workers. */
  async close(): Promise<void> {
    await this.iterator?.return(undefined);
    this.iterator = null;
    await this.loader.close();
  }
}
