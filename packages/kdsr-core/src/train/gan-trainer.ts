// Stage 3 of KDSR-GAN (KDSRGAN_S): the student generator against a U-Net discriminator with spectral
// normalisation, with L1 + perceptual + GAN + KD losses, two Adam optimisers with their own schedules
// and an EMA of the student. One iteration, in the order of the recipe (degradation.md §4.3):
//   1. d_T: the frozen teacher encoder's D' for LR ⊕ unshuffled GT;
//   2. generator step, D frozen (no gradient to it; its spectral norms still do their power iteration):
//      L1(sr, gt) + λ_kd·KD(d_S, d_T) + perceptual(sr, gt) + λ_gan·BCE(D(sr), 1);
//   3. discriminator step: BCE(D(gt), 1) and BCE(D(sr'), 0) with sr' the SR of step 2 as a constant,
//      two backward passes whose gradients add up, one Adam step;
//   4. EMA of the student (decay 0.999).
import { EventEmitter } from 'events';
import { dispose, Tensor, tidy } from '@kdsr/cuda';
import { backward } from '../autograd/backward';
import * as F from '../autograd/functional';
import { noGrad } from '../autograd/graph';
import { checkpointPaths, loadTrainingState, loadWeights, saveTrainingState, saveWeights } from '../checkpoint/checkpoint';
import type { UNetDiscriminatorSN } from '../models/discriminator';
import type { KdsrStudent, KdsrTeacher } from '../models/kdsr';
import type { Parameter } from '../nn/parameter';
import { Adam, AdamOptions } from './adam';
import type { Batch, DataSource } from './data-source';
import { Ema } from './ema';
import { gradNorm } from './grad-norm';
import { KD_TEMPERATURE, KD_WEIGHT, KdOptions } from './losses';
import type { PerceptualLoss } from './perceptual-loss';
import { learningRate, LrSchedule, validateSchedule } from './schedule';
import { NonFiniteError } from './trainer';

/** The generator's GAN-loss weight in KDSR-GAN (Real-ESRGAN uses 0.1). */
export const KDSR_GAN_WEIGHT = 1;
export const KDSR_GAN_EMA_DECAY = 0.999;

export interface GanTrainerOptions {
  /** The stage-1 teacher; only its encoder is used, frozen. */
  teacher: KdsrTeacher;
  /** The stage-2 student being fine-tuned. */
  student: KdsrStudent;
  discriminator: UNetDiscriminatorSN;
  perceptual: PerceptualLoss;
  data: DataSource;
  /** Generator (student) optimiser and schedule. */
  optimizer: AdamOptions;
  schedule?: LrSchedule;
  /** Discriminator optimiser and schedule. */
  discriminatorOptimizer: AdamOptions;
  discriminatorSchedule?: LrSchedule;
  kd?: KdOptions;
  /** Weight of the generator's GAN term (default 1). */
  ganWeight?: number;
  /** EMA decay of the student (default 0.999). */
  emaDecay?: number;
  /** Preset name written into checkpoints. */
  preset?: string;
}

export interface GanLosses {
  l1: number;
  kd: number;
  percep: number;
  ganG: number;
  gTotal: number;
  dReal: number;
  dFake: number;
}

export interface GanProgressEvent {
  /** Iterations made so far (this one included). */
  step: number;
  losses: GanLosses;
  lr: number;
  discriminatorLr: number;
  gradNorm: number;
  discriminatorGradNorm: number;
  samplesPerSecond: number;
  /** Milliseconds the iteration waited for its batch (≈ 0 when the data source makes batches ahead). */
  dataWaitMs: number;
}

export interface GanTrainerEvents {
  progress: [GanProgressEvent];
  checkpoint: [{ step: number; path: string }];
}

function finite(step: number, values: Record<string, number>): void {
  for (const [name, v] of Object.entries(values)) if (!Number.isFinite(v)) throw new NonFiniteError(step, `the ${name} loss`, v);
}

function group(tensors: Map<string, Tensor>, prefix: string): Map<string, Tensor> {
  return new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
}

export class GanTrainer extends EventEmitter<GanTrainerEvents> {
  readonly optimizer: Adam;
  readonly discriminatorOptimizer: Adam;
  readonly ema: Ema;
  /** Iterations made so far. */
  updates = 0;
  private readonly generatorParams: Array<[string, Parameter]>;
  private readonly discriminatorParams: Array<[string, Parameter]>;

  constructor(private readonly options: GanTrainerOptions) {
    super();
    if (options.schedule) validateSchedule(options.schedule);
    if (options.discriminatorSchedule) validateSchedule(options.discriminatorSchedule);
    this.generatorParams = options.student.namedParameters();
    this.discriminatorParams = options.discriminator.namedParameters();
    this.optimizer = new Adam(this.generatorParams, options.optimizer);
    this.discriminatorOptimizer = new Adam(this.discriminatorParams, options.discriminatorOptimizer);
    this.ema = new Ema(this.generatorParams, options.emaDecay ?? KDSR_GAN_EMA_DECAY);
  }

  get student(): KdsrStudent {
    return this.options.student;
  }

  get discriminator(): UNetDiscriminatorSN {
    return this.options.discriminator;
  }

  /** The learning rates of the next iteration. */
  get learningRates(): { generator: number; discriminator: number } {
    const o = this.options;
    return {
      generator: learningRate(o.optimizer.lr, o.schedule ?? { type: 'constant' }, this.updates),
      discriminator: learningRate(o.discriminatorOptimizer.lr, o.discriminatorSchedule ?? { type: 'constant' }, this.updates),
    };
  }

  /** Step 2: the generator's losses and gradients; returns the SR (a constant now) for the discriminator step. */
  private generatorPass(batch: Batch): { sr: Tensor; losses: Omit<GanLosses, 'dReal' | 'dFake'>; norm: number } {
    const o = this.options;
    return tidy(() => {
      const teacher = o.teacher;
      const teacherIdrKd = noGrad(() => teacher.E.forward(teacher.encoderInput(batch.lr, batch.hr)).idrKd);
      const out = o.student.forward(batch.lr);
      const l1 = F.l1Loss(out.sr, batch.hr);
      const kd = F.scale(F.kdLoss(out.idrKd, teacherIdrKd, o.kd?.tau ?? KD_TEMPERATURE), o.kd?.weight ?? KD_WEIGHT);
      const percep = o.perceptual.forward(out.sr, batch.hr).loss;
      const ganG = F.scale(F.bceWithLogits(o.discriminator.forward(out.sr, { training: true, frozen: true }), 1), o.ganWeight ?? KDSR_GAN_WEIGHT);
      const total = F.add(F.add(l1, kd), F.add(percep, ganG));
      backward(total);
      const losses = { l1: l1.toArray()[0], kd: kd.toArray()[0], percep: percep.toArray()[0], ganG: ganG.toArray()[0], gTotal: total.toArray()[0] };
      finite(this.updates + 1, losses);
      const norm = gradNorm(this.generatorParams.map(([, p]) => p));
      if (!Number.isFinite(norm)) throw new NonFiniteError(this.updates + 1, 'the generator gradient norm', norm);
      // A view without the graph: the discriminator step sees sr as a constant.
      return { sr: out.sr.reshape(out.sr.shape), losses, norm };
    });
  }

  /** Step 3: real and fake passes, their gradients summed. */
  private discriminatorPass(batch: Batch, sr: Tensor): { dReal: number; dFake: number; norm: number } {
    const d = this.options.discriminator;
    return tidy(() => {
      const real = F.bceWithLogits(d.forward(batch.hr, { training: true }), 1);
      backward(real);
      const fake = F.bceWithLogits(d.forward(sr, { training: true }), 0);
      backward(fake);
      const losses = { dReal: real.toArray()[0], dFake: fake.toArray()[0] };
      finite(this.updates + 1, losses);
      const norm = gradNorm(this.discriminatorParams.map(([, p]) => p));
      if (!Number.isFinite(norm)) throw new NonFiniteError(this.updates + 1, 'the discriminator gradient norm', norm);
      return { ...losses, norm };
    });
  }

  /**
   * One iteration. Both updates are applied only after both passes: neither reads what the other
   * updates (the discriminator pass sees the SR computed before the generator's update), so this is
   * the recipe's order, and a non-finite loss or gradient norm (NonFiniteError) leaves every weight
   * as it was.
   */
  async step(): Promise<GanProgressEvent> {
    const started = performance.now();
    const batch = await this.options.data.nextBatch();
    const dataWaitMs = performance.now() - started;
    const rates = this.learningRates;
    let sr: Tensor | null = null;
    let event: GanProgressEvent;
    try {
      const g = this.generatorPass(batch);
      sr = g.sr;
      const d = this.discriminatorPass(batch, sr);
      this.optimizer.step(rates.generator);
      this.discriminatorOptimizer.step(rates.discriminator);
      this.ema.update();
      event = {
        step: this.updates + 1,
        losses: { ...g.losses, dReal: d.dReal, dFake: d.dFake },
        lr: rates.generator,
        discriminatorLr: rates.discriminator,
        gradNorm: g.norm,
        discriminatorGradNorm: d.norm,
        samplesPerSecond: batch.lr.shape[0] / ((performance.now() - started) / 1000),
        dataWaitMs,
      };
    } finally {
      this.options.student.zeroGrad();
      this.options.discriminator.zeroGrad();
      sr?.dispose();
      dispose(batch);
    }
    this.updates++;
    this.emit('progress', event);
    return event;
  }

  /** Runs until `steps` iterations in total, checkpointing every `checkpoint.every` and at the end. */
  async run(steps: number, checkpoint?: { path: string; every: number }): Promise<void> {
    while (this.updates < steps) {
      await this.step();
      if (checkpoint && (this.updates % checkpoint.every === 0 || this.updates === steps)) this.saveCheckpoint(checkpoint.path);
    }
  }

  /**
   * '<path>.safetensors': the student (stage 3); '<path>.train.safetensors': both optimisers' moments
   * (adam.*, adam_d.*), the EMA (ema.*), the discriminator with its spectral-norm state (disc.*), the
   * teacher encoder (teacher.E.*) and, in the metadata, step counts and the data position.
   */
  saveCheckpoint(path: string): void {
    const o = this.options;
    const files = checkpointPaths(path);
    const g = this.optimizer.state();
    const d = this.discriminatorOptimizer.state();
    const tensors = new Map<string, Tensor>();
    for (const [k, t] of g.tensors) tensors.set(`adam.${k}`, t);
    for (const [k, t] of d.tensors) tensors.set(`adam_d.${k}`, t);
    for (const [k, t] of this.ema.weights()) tensors.set(`ema.${k}`, t);
    for (const [k, t] of o.discriminator.stateDict()) tensors.set(`disc.${k}`, t);
    for (const [k, t] of o.teacher.E.stateDict()) tensors.set(`teacher.E.${k}`, t);
    saveTrainingState(files.state, {
      step: this.updates,
      tensors,
      json: {
        stage: 3,
        optimizerSteps: g.steps,
        discriminatorOptimizerSteps: d.steps,
        optimizer: this.optimizer.options,
        discriminatorOptimizer: this.discriminatorOptimizer.options,
        data: o.data.saveState(),
      },
    });
    saveWeights(files.weights, o.student.stateDict(), { role: 'student', preset: o.preset ?? 'custom', config: o.student.config, stage: 3, step: this.updates });
    this.emit('checkpoint', { step: this.updates, path: files.weights });
  }

  /** Continues from a checkpoint written by saveCheckpoint into this trainer's (fresh) objects. */
  loadCheckpoint(path: string): void {
    const o = this.options;
    const files = checkpointPaths(path);
    const device = this.generatorParams[0][1].value.device;
    const { weights, info } = loadWeights(files.weights, device);
    const state = loadTrainingState(files.state, device);
    try {
      if (info.step !== state.step) throw new Error(`${files.weights} is from update ${info.step} but ${files.state} from update ${state.step} (interrupted while saving?)`);
      if (info.stage !== 3 || state.json.stage !== 3) throw new Error(`${files.weights} is a stage-${info.stage} checkpoint; stage 3 resumes only from a stage-3 checkpoint (start it from the stage-2 student's weights instead)`);
      o.student.loadStateDict(weights, { source: files.weights });
      this.optimizer.loadState(group(state.tensors, 'adam.'), state.json.optimizerSteps as Record<string, number>, files.state);
      this.discriminatorOptimizer.loadState(group(state.tensors, 'adam_d.'), state.json.discriminatorOptimizerSteps as Record<string, number>, files.state);
      this.ema.load(group(state.tensors, 'ema.'), files.state);
      o.discriminator.loadStateDict(group(state.tensors, 'disc.'), { source: `${files.state} (disc.*)` });
      o.teacher.E.loadStateDict(group(state.tensors, 'teacher.E.'), { source: `${files.state} (teacher.E.*)` });
      o.data.restoreState(state.json.data);
      this.updates = state.step;
    } finally {
      dispose([...weights.values(), ...state.tensors.values()]);
    }
  }

  dispose(): void {
    this.optimizer.dispose();
    this.discriminatorOptimizer.dispose();
    this.ema.dispose();
  }
}
