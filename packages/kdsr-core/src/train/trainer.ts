// The two-stage KDSR trainer. Stage 1 trains the teacher (KD-IDE on LR ⊕ unshuffled HR, plus the
// generator) with L1. Stage 2 trains the student — its generator copied from the teacher, a fresh
// E_st — with L1 + λ·KD against the frozen teacher encoder's D', optionally after KD-only warm-up
// steps. step() reads top to bottom: batch → forward → loss → backward → grad norm → update.
import { EventEmitter } from 'events';
import { DType, dispose, Tensor, tidy } from '@kdsr/cuda';
import { backward } from '../autograd/backward';
import { noGrad } from '../autograd/graph';
import {
  CheckpointInfo,
  checkpointPaths,
  loadTrainingState,
  loadWeights,
  readCheckpointInfo,
  saveTrainingState,
  saveWeights,
} from '../checkpoint/checkpoint';
import type { KdsrStudent, KdsrTeacher } from '../models/kdsr';
import type { Parameter } from '../nn/parameter';
import { Adam, AdamOptions } from './adam';
import type { Batch, DataSource } from './data-source';
import { Ema } from './ema';
import { gradNorm } from './grad-norm';
import { KdOptions, kdLoss, l1Loss, studentLosses } from './losses';
import { learningRate, LrSchedule, validateSchedule } from './schedule';

export interface TrainerOptions {
  stage: 1 | 2;
  /** Stage 1: the network being trained. Stage 2: the trained teacher, whose encoder stays frozen. */
  teacher: KdsrTeacher;
  /** Stage 2: the network being trained (see studentFromTeacher). */
  student?: KdsrStudent;
  data: DataSource;
  optimizer: AdamOptions;
  schedule?: LrSchedule;
  /** Stage 2: KD temperature and weight (defaults τ 0.15, λ 1). */
  kd?: KdOptions;
  /** Stage 2: the first updates use the KD loss alone (the generator gets no gradient). */
  warmupSteps?: number;
  /** Keep an exponential moving average of the trained weights. */
  ema?: { decay: number };
  /** Preset name written into checkpoints ('M', 'L', 'GAN', 'custom'). */
  preset?: string;
  /** Runs every `every` updates with the trained model; its result is reported as a 'validation' event. */
  validation?: { every: number; run: (model: KdsrTeacher | KdsrStudent, step: number) => number | Promise<number> };
}

export interface StepLosses {
  l1?: number;
  kd?: number;
  total: number;
}

export interface ProgressEvent {
  /** Updates made so far (this one included). */
  step: number;
  losses: StepLosses;
  lr: number;
  gradNorm: number;
  samplesPerSecond: number;
  /** Milliseconds the update waited for its batch (≈ 0 when the data source makes batches ahead). */
  dataWaitMs: number;
}

export interface ValidationEvent {
  step: number;
  value: number;
}

/** Thrown when a loss or the gradient norm is not finite; the weights keep their last good values. */
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

export interface TrainerEvents {
  progress: [ProgressEvent];
  validation: [ValidationEvent];
  checkpoint: [{ step: number; path: string }];
}

/** The dtype the model was built in (InitializerOptions.dtype). */
function modelDtype(model: KdsrTeacher | KdsrStudent): DType {
  return model.G.head.at(0).weight.value.dtype;
}

/** Whether `file` is a readable weights file written at update `step`. */
function weightsFileAt(file: string, step: number): boolean {
  try {
    return readCheckpointInfo(file).step === step;
  } catch {
    return false;
  }
}

export class Trainer extends EventEmitter<TrainerEvents> {
  readonly stage: 1 | 2;
  readonly model: KdsrTeacher | KdsrStudent;
  readonly optimizer: Adam;
  readonly ema: Ema | null;
  /** Updates made so far. */
  updates = 0;
  private readonly trained: Array<[string, Parameter]>;

  constructor(private readonly options: TrainerOptions) {
    super();
    this.stage = options.stage;
    if (options.stage === 2 && !options.student) throw new Error('Trainer: stage 2 needs a student (see studentFromTeacher)');
    if (options.schedule) validateSchedule(options.schedule);
    this.model = options.stage === 1 ? options.teacher : options.student!;
    this.trained = this.model.namedParameters();
    if (options.stage === 2 && modelDtype(options.teacher) !== modelDtype(this.model))
      throw new Error(`Trainer: the teacher is ${modelDtype(options.teacher)} but the student is ${modelDtype(this.model)}; build both in one dtype`);
    this.optimizer = new Adam(this.trained, options.optimizer);
    this.ema = options.ema ? new Ema(this.trained, options.ema.decay) : null;
  }

  /** The learning rate of the next update. */
  get learningRate(): number {
    return learningRate(this.options.optimizer.lr, this.options.schedule ?? { type: 'constant' }, this.updates);
  }

  private losses(batch: Batch, warmup: boolean): { total: Tensor; parts: Record<string, Tensor> } {
    if (this.stage === 1) {
      const { sr } = this.options.teacher.forward(batch.lr, batch.hr);
      const l1 = l1Loss(sr, batch.hr);
      return { total: l1, parts: { l1 } };
    }
    const teacher = this.options.teacher;
    const teacherIdrKd = noGrad(() => teacher.E.forward(teacher.encoderInput(batch.lr, batch.hr)).idrKd);
    if (warmup) {
      const kd = kdLoss((this.model as KdsrStudent).E_st.forward(batch.lr).idrKd, teacherIdrKd, this.options.kd?.tau);
      return { total: kd, parts: { kd } };
    }
    const out = (this.model as KdsrStudent).forward(batch.lr);
    const { l1, kd, total } = studentLosses(out.sr, batch.hr, out.idrKd, teacherIdrKd, this.options.kd);
    return { total, parts: { l1, kd } };
  }

  /** Data sources produce float32; a float64 model (a reference run) gets its batch converted. */
  private inModelDtype(batch: Batch): Batch {
    const dtype = modelDtype(this.model);
    if (batch.lr.dtype === dtype && batch.hr.dtype === dtype) return batch;
    const converted = { lr: batch.lr.cast(dtype), hr: batch.hr.cast(dtype) };
    dispose(batch);
    return converted;
  }

  /** One update. Throws NonFiniteError (without updating) when the loss or gradients blow up. */
  async step(): Promise<ProgressEvent> {
    const started = performance.now();
    const batch = this.inModelDtype(await this.options.data.nextBatch());
    const dataWaitMs = performance.now() - started;
    const lr = this.learningRate;
    const warmup = this.stage === 2 && this.updates < (this.options.warmupSteps ?? 0);
    let losses: StepLosses;
    let norm: number;
    try {
      ({ losses, norm } = tidy(() => {
        const { total, parts } = this.losses(batch, warmup);
        backward(total);
        const values: StepLosses = { total: total.toArray()[0] };
        for (const [name, t] of Object.entries(parts)) values[name as 'l1' | 'kd'] = t.toArray()[0];
        const gradientNorm = gradNorm(this.trained.map(([, p]) => p));
        for (const [name, v] of Object.entries(values)) if (!Number.isFinite(v)) throw new NonFiniteError(this.updates + 1, `the ${name} loss`, v);
        if (!Number.isFinite(gradientNorm)) throw new NonFiniteError(this.updates + 1, 'the gradient norm', gradientNorm);
        this.optimizer.step(lr);
        this.ema?.update();
        return { losses: values, norm: gradientNorm };
      }));
    } finally {
      this.model.zeroGrad();
      dispose(batch);
    }
    this.updates++;
    const seconds = (performance.now() - started) / 1000;
    const event: ProgressEvent = { step: this.updates, losses, lr, gradNorm: norm, samplesPerSecond: batch.lr.shape[0] / seconds, dataWaitMs };
    this.emit('progress', event);
    const validation = this.options.validation;
    if (validation && this.updates % validation.every === 0) {
      const value = await noGrad(() => validation.run(this.model, this.updates));
      this.emit('validation', { step: this.updates, value });
    }
    return event;
  }

  /**
   * Runs until `steps` updates have been made in total; writes a checkpoint every
   * `checkpointEvery` updates and at the end. A NonFiniteError stops the run and leaves the last
   * checkpoint as it was.
   */
  async run(steps: number, checkpoint?: { path: string; every: number }): Promise<void> {
    while (this.updates < steps) {
      await this.step();
      if (checkpoint && (this.updates % checkpoint.every === 0 || this.updates === steps)) this.saveCheckpoint(checkpoint.path);
    }
  }

  /**
   * Writes the checkpoint '<path>.train.safetensors' (weights and the whole training state, one
   * atomic file), then '<path>.safetensors' (the same weights, original key names, for inference).
   */
  saveCheckpoint(path: string): void {
    const files = checkpointPaths(path);
    const { tensors, steps } = this.optimizer.state();
    const stateTensors = new Map<string, Tensor>();
    const weights = this.model.stateDict();
    for (const [k, t] of weights) stateTensors.set(`model.${k}`, t);
    for (const [k, t] of tensors) stateTensors.set(`adam.${k}`, t);
    if (this.ema) for (const [k, t] of this.ema.weights()) stateTensors.set(`ema.${k}`, t);
    if (this.stage === 2) for (const [k, t] of this.options.teacher.E.stateDict()) stateTensors.set(`teacher.E.${k}`, t);
    saveTrainingState(files.state, {
      step: this.updates,
      tensors: stateTensors,
      json: { stage: this.stage, optimizerSteps: steps, optimizer: this.optimizer.options, data: this.options.data.saveState() },
    });
    saveWeights(files.weights, weights, this.weightsInfo());
    this.emit('checkpoint', { step: this.updates, path: files.weights });
  }

  private weightsInfo(): CheckpointInfo {
    return { role: this.stage === 1 ? 'teacher' : 'student', preset: this.options.preset ?? 'custom', config: this.model.config, stage: this.stage, step: this.updates };
  }

  /** Writes the trained weights alone (for inference or release); with ema, the averaged weights. */
  exportWeights(file: string, options: { ema?: boolean } = {}): void {
    if (options.ema && !this.ema) throw new Error('exportWeights: this trainer keeps no EMA (pass the ema option)');
    saveWeights(file, options.ema ? this.ema!.weights() : this.model.stateDict(), { ...this.weightsInfo(), ema: options.ema ?? false });
  }

  /**
   * Continues from a checkpoint written by saveCheckpoint into this trainer's (fresh) objects.
   * Returns whether '<path>.safetensors' holds other weights than the checkpoint (a kill between
   * the two writes): saveCheckpoint brings it up to date.
   */
  loadCheckpoint(path: string): { weightsFileStale: boolean } {
    const files = checkpointPaths(path);
    const device = this.trained[0]?.[1].value.device ?? 'cpu';
    const state = loadTrainingState(files.state, device);
    const group = (prefix: string) => new Map([...state.tensors].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
    const own = group('model.');
    // Earlier versions kept the weights in the weights file only.
    const legacy = own.size === 0 ? loadWeights(files.weights, device) : null;
    try {
      const stage = legacy ? legacy.info.stage : state.json.stage;
      if (legacy && legacy.info.step !== state.step) throw new Error(`${files.weights} is from update ${legacy.info.step} but ${files.state} from update ${state.step} (interrupted while saving?)`);
      if (stage !== this.stage) throw new Error(`${files.state} is a stage-${stage} checkpoint; this trainer runs stage ${this.stage}`);
      this.model.loadStateDict(legacy ? legacy.weights : own, { source: legacy ? files.weights : files.state });
      this.optimizer.loadState(group('adam.'), state.json.optimizerSteps as Record<string, number>, files.state);
      if (this.ema) {
        // A run that switches EMA on when it resumes starts the average from the resumed weights.
        const saved = group('ema.');
        if (saved.size > 0) this.ema.load(saved, files.state);
        else this.ema.reset();
      }
      if (this.stage === 2) this.options.teacher.E.loadStateDict(group('teacher.E.'), { source: files.state });
      this.options.data.restoreState(state.json.data);
      this.updates = state.step;
    } finally {
      dispose([...(legacy?.weights.values() ?? []), ...state.tensors.values()]);
    }
    return { weightsFileStale: legacy === null && !weightsFileAt(files.weights, state.step) };
  }

  dispose(): void {
    this.optimizer.dispose();
    this.ema?.dispose();
  }
}
