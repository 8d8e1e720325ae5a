// Endless training batches in the shape @kdsr/core's trainer asks for (its DataSource interface,
// met structurally: this package never imports core). Epochs of a PatchLoader follow one another;
// HR-only data gets its LR from the classic degradation on the fly, one kernel and noise level per
// batch unless the sampler says perSample. The position {epoch, position, batches} is the whole
// state: crops come from (seed, epoch, position) in the loader, and the degradation of batch b of
// epoch e draws from RandomStream(seed).fork(e).fork(b), so a restored source hands out exactly the
// batches the saved one would have. With `realesrgan`, HR-only batches get Real-ESRGAN's second-order
// degradation instead (KDSR-GAN's stages): the loader's crop is degraded whole, then LR and HR are
// cropped to the final patch (as the recipe degrades 400px crops into 256px pairs); the per-sample
// kernels come from fork(0) of the batch's stream, the rest of the pipeline from fork(1). (The
// training-pair pool of the recipe is not applied: its contents could not be restored on resume.)
import { Tensor } from '@kdsr/cuda';
import { ClassicSampler, degradeWithSampler } from '../degradation/samplers';
import { RandomStream } from '../degradation/random-stream';
import { KernelSamplerOptions, REALESRGAN_KERNELS, sampleKernels } from '../realesrgan/kernel-sampler';
import { degradeSecondOrder, SecondOrderOptions } from '../realesrgan/second-order';
import { datasetLength } from './dataset';
import { Batch, LoaderOptions, PatchLoader } from './loader';

/** The loader's options (`device` is where batches are stacked and degraded) and the degradation draws. */
export interface TrainingSourceOptions extends Omit<LoaderOptions, 'degrade'> {
  /** Degradation draws for HR-only datasets (this or realesrgan is required for them); paired datasets bring their LR. */
  sampler?: ClassicSampler;
  /**
   * Real-ESRGAN's second-order degradation for HR-only datasets: `options.scale` must equal scale and
   * `options.gtSize` (the final HR patch) must not exceed the loader's lrPatch × scale crop.
   */
  realesrgan?: { options: SecondOrderOptions; kernels?: KernelSamplerOptions };
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
}

export interface TrainingSourceState {
  /** Epoch of the next batch. */
  epoch: number;
  /** Position in the epoch's item order where the next batch starts. */
  position: number;
  /** Batches already handed out in this epoch (the next batch's number). */
  batches: number;
  stream: StreamIdentity;
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
    };
  }

  /** The next batch: lr (B, 3, P, P) and hr (B, 3, sP, sP) in [0, 1], owned by the caller. */
  async nextBatch(): Promise<{ lr: Tensor; hr: Tensor }> {
    for (;;) {
      if (!this.iterator) {
        this.freshEpoch = this.position === 0;
        this.iterator = this.loader.epoch(this.epoch, { position: this.position, batches: this.batches });
      }
      const step = await this.iterator.next();
      if (!step.done) {
        this.freshEpoch = false;
        this.position = step.value.next;
        this.batches = step.value.index + 1;
        return this.finish(step.value);
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

  /** The batch, with the LR of HR-only data synthesised. */
  private finish(batch: Batch): { lr: Tensor; hr: Tensor } {
    if (batch.lr) return { lr: batch.lr, hr: batch.hr };
    const stream = new RandomStream(this.identity.seed).fork(this.epoch).fork(batch.index);
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

  saveState(): TrainingSourceState {
    return { epoch: this.epoch, position: this.position, batches: this.batches, stream: { ...this.identity } };
  }

  /** Continues from a saveState() value (after a JSON round trip too). */
  restoreState(state: unknown): void {
    const s = state as Partial<TrainingSourceState> | null;
    if (!s || !Number.isInteger(s.epoch) || !Number.isInteger(s.position) || !Number.isInteger(s.batches) || !s.stream)
      throw new Error(`TrainingSource: not a saved training-source position: ${JSON.stringify(state)}`);
    const differences = (Object.keys(this.identity) as Array<keyof StreamIdentity>).filter((k) => s.stream![k] !== this.identity[k]);
    if (differences.length > 0)
      throw new Error(
        `TrainingSource: the saved position belongs to another data stream (${differences.map((k) => `${k} ${s.stream![k]} there, ${this.identity[k]} here`).join('; ')})`,
      );
    void this.iterator?.return(undefined);
    this.iterator = null;
    this.epoch = s.epoch!;
    this.position = s.position!;
    this.batches = s.batches!;
  }

  /** Stops the decoding workers. */
  async close(): Promise<void> {
    await this.iterator?.return(undefined);
    this.iterator = null;
    await this.loader.close();
  }
}
