// What the trainer needs from a data pipeline. @kdsr/data's loader satisfies it structurally (core
// never imports data): batches of LR/HR pairs, and a JSON-serialisable position so that a resumed
// run sees exactly the batches it would have seen.
import type { Tensor } from '@kdsr/cuda';

export interface Batch {
  /** (B, 3, H, W) in [0, 1]. */
  lr: Tensor;
  /** (B, 3, sH, sW) in [0, 1]. */
  hr: Tensor;
}

export interface DataSource {
  /** The next batch. The trainer disposes both tensors after the step. */
  nextBatch(): Batch | Promise<Batch>;
  /** The position in the stream (epoch, permutation, RNG state...), JSON-serialisable. */
  saveState(): unknown;
  /** Continues from a position saveState() returned. */
  restoreState(state: unknown): void;
}
