// What every training stage shares: the update loop, validation, and the checkpoint. A stage says
// what one update does, which network it trains and what else its state holds (Trainer: stages 1
// and 2; GanTrainer: stage 3); this class fetches the batches, counts the updates, emits the events,
// validates, and writes and reads the one-file checkpoint (checkpoint/training-checkpoint.ts).
import { EventEmitter } from 'events';
import { DType, dispose, Tensor } from '@kdsr/cuda';
import { noGrad } from '../autograd/graph';
import type { CheckpointInfo } from '../checkpoint/checkpoint';
import { LoadedCheckpoint, readTrainingCheckpoint, Stage, writeTrainingCheckpoint } from '../checkpoint/training-checkpoint';
import type { KdsrStudent, KdsrTeacher } from '../models/kdsr';
import type { Batch, DataSource } from './data-source';

/** What every stage reports after an update. */
export interface StepEvent {
  /** Updates made so far (this one included). */
  step: number;
  /** The loss that was minimised (`total`; stage 3: the generator's), and its parts. */
  losses: { total: number };
  lr: number;
  samplesPerSecond: number;
  /** Milliseconds the update waited for its batch (≈ 0 when the data source makes batches ahead). */
  dataWaitMs: number;
}

/** The parts of a StepEvent that the run loop measures (an update returns the rest). */
export type StepTiming = 'step' | 'samplesPerSecond' | 'dataWaitMs';

export interface ValidationEvent {
  step: number;
  value: number;
}

export interface StageTrainerEvents<E extends StepEvent> {
  progress: [E];
  validation: [ValidationEvent];
  checkpoint: [{ step: number; path: string }];
}

export interface Validation {
  every: number;
  /** Measures the trained model (e.g. PSNR on validation images); reported as a 'validation' event. */
  run: (model: KdsrTeacher | KdsrStudent, step: number) => number | Promise<number>;
}

export interface RunOptions {
  /** Write a checkpoint at `path` every `every` updates, at the end, and when stopped. */
  checkpoint?: { path: string; every: number };
  /** Asked before and after each update: true stops the run (a checkpoint is written if an update was made). */
  stop?: () => boolean;
}

/** Thrown when a loss or a gradient norm is not finite; the weights keep their last good values. */
export class NonFiniteError extends Error {
  constructor(
    readonly step: number,
    readonly what: string,
    readonly value: number,
  ) {
    super(`training diverged at update ${step}: ${what} is ${value}; the update was not applied. Resume from the last checkpoint with a lower learning rate.`);
    this.name = 'NonFiniteError';
  }
}

/** Throws NonFiniteError for the first loss (a number-valued property of `losses`) that is not finite. */
export function checkFinite(step: number, losses: object): void {
  for (const [name, v] of Object.entries(losses) as Array<[string, number]>) if (!Number.isFinite(v)) throw new NonFiniteError(step, `the ${name} loss`, v);
}

/** The dtype a model was built in (InitializerOptions.dtype). */
export function modelDtype(model: KdsrTeacher | KdsrStudent): DType {
  return model.G.head.at(0).weight.value.dtype;
}

export abstract class StageTrainer<E extends StepEvent> extends EventEmitter<StageTrainerEvents<E>> {
  abstract readonly stage: Stage;
  /** The network being trained: its weights are the checkpoint's model.* and weights file. */
  abstract readonly model: KdsrTeacher | KdsrStudent;
  /** Updates made so far. */
  updates = 0;

  constructor(
    protected readonly data: DataSource,
    private readonly validation?: Validation,
  ) {
    super();
  }

  /**
   * One update on `batch` (already in the model's dtype; the caller disposes it). Throws
   * NonFiniteError, leaving every weight as it was, when a loss or gradient is not finite.
   */
  protected abstract update(batch: Batch): Omit<E, StepTiming>;

  /** The state besides the trained weights: tensor groups by name, and JSON (the data position is added). */
  protected abstract trainingState(): { groups: Record<string, Map<string, Tensor>>; json: Record<string, unknown> };

  /** Takes that state back from a checkpoint (the weights and the data position are restored already). */
  protected abstract restoreTrainingState(checkpoint: LoadedCheckpoint): void;

  /** What the weights file says the weights are. */
  protected abstract weightsInfo(): CheckpointInfo;

  abstract dispose(): void;

  /** Data sources produce float32; a float64 model (a reference run) gets its batch converted. */
  private inModelDtype(batch: Batch): Batch {
    const dtype = modelDtype(this.model);
    if (batch.lr.dtype === dtype && batch.hr.dtype === dtype) return batch;
    const converted = { lr: batch.lr.cast(dtype), hr: batch.hr.cast(dtype) };
    dispose(batch);
    return converted;
  }

  /** One update, then its 'progress' event and, when due, validation. */
  async step(): Promise<E> {
    const started = performance.now();
    const batch = this.inModelDtype(await this.data.nextBatch());
    const dataWaitMs = performance.now() - started;
    let result: Omit<E, StepTiming>;
    try {
      result = this.update(batch);
    } finally {
      dispose(batch);
    }
    this.updates++;
    const seconds = (performance.now() - started) / 1000;
    const event = { ...result, step: this.updates, samplesPerSecond: batch.lr.shape[0] / seconds, dataWaitMs } as E;
    this.emit('progress', event);
    const validation = this.validation;
    if (validation && this.updates % validation.every === 0) {
      const value = await noGrad(() => validation.run(this.model, this.updates));
      this.emit('validation', { step: this.updates, value });
    }
    return event;
  }

  /**
   * Updates until `steps` have been made in total or `stop` says so, with checkpoints as asked. A
   * NonFiniteError stops the run and leaves the last checkpoint as it was.
   */
  async run(steps: number, options: RunOptions = {}): Promise<void> {
    const { checkpoint } = options;
    const stopped = () => options.stop?.() ?? false;
    while (this.updates < steps && !stopped()) {
      await this.step();
      if (checkpoint && (this.updates % checkpoint.every === 0 || this.updates === steps || stopped())) this.saveCheckpoint(checkpoint.path);
    }
  }

  /** Writes the checkpoint '<path>.train.safetensors', then the weights '<path>.safetensors'. */
  saveCheckpoint(path: string): void {
    const { groups, json } = this.trainingState();
    const weights = writeTrainingCheckpoint(path, {
      step: this.updates,
      stage: this.stage,
      weights: this.model.stateDict(),
      info: this.weightsInfo(),
      groups,
      json: { ...json, data: this.data.saveState() },
    });
    this.emit('checkpoint', { step: this.updates, path: weights });
  }

  /**
   * Continues from a checkpoint written by saveCheckpoint into this trainer's (fresh) objects.
   * Returns whether '<path>.safetensors' holds other weights than the checkpoint (a kill between
   * the two writes): saveCheckpoint brings it up to date.
   */
  loadCheckpoint(path: string): { weightsFileStale: boolean } {
    const device = this.model.G.head.at(0).weight.value.device;
    return readTrainingCheckpoint(path, device, (checkpoint) => {
      if (checkpoint.stage !== this.stage) throw new Error(`${checkpoint.source} is a stage-${checkpoint.stage} checkpoint; this trainer runs stage ${this.stage}`);
      this.model.loadStateDict(checkpoint.weights, { source: checkpoint.weightsSource });
      this.restoreTrainingState(checkpoint);
      this.data.restoreState(checkpoint.json.data);
      this.updates = checkpoint.step;
      return { weightsFileStale: checkpoint.weightsFileStale };
    });
  }
}
