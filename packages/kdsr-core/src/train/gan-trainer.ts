// Stage 3 of KDSR-GAN (KDSRGAN_S): the student generator against a U-Net discriminator with spectral
// normalisation, with L1 + perceptual + GAN + KD losses, two Adam optimisers with their own schedules
// and an EMA of the student. One iteration, in the order of the recipe (degradation.md §4.3):
//   1. d_T: the frozen teacher encoder's D' for LR ⊕ unshuffled GT;
//   2. generator step, D frozen (no gradient to it; its spectral norms still do their power iteration):
//      L1(sr, gt) + λ_kd·KD(d_S, d_T) + perceptual(sr, gt) + λ_gan·BCE(D(sr), 1);
//   3. discriminator step: BCE(D(gt), 1) and BCE(D(sr'), 0) with sr' the SR of step 2 as a constant,
//      two backward passes whose gradients add up, one Adam step;
//   4. EMA of the student (decay 0.999).
// The update loop, validation and checkpoints are StageTrainer's, as for stages 1 and 2.
import { Tensor, tidy } from '@kdsr/cuda';
import { backward } from '../autograd/backward';
import * as F from '../autograd/functional';
import { noGrad } from '../autograd/graph';
import type { CheckpointInfo } from '../checkpoint/checkpoint';
import type { LoadedCheckpoint } from '../checkpoint/training-checkpoint';
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
import { checkFinite, NonFiniteError, StageTrainer, StageTrainerEvents, StepEvent, StepTiming, Validation } from './stage-trainer';

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
  /** Runs every `every` updates with the student; its result is reported as a 'validation' event. */
  validation?: Validation;
}

export interface GanLosses {
  l1: number;
  kd: number;
  percep: number;
  ganG: number;
  /** The generator's loss: l1 + kd + percep + ganG. */
  total: number;
  dReal: number;
  dFake: number;
}

export interface GanProgressEvent extends StepEvent {
  losses: GanLosses;
  discriminatorLr: number;
  gradNorm: number;
  discriminatorGradNorm: number;
  /** The discriminator's mean logit on this batch's HR (real) and SR (fake), before its update: how far it tells them apart. */
  discriminatorOutput: { real: number; fake: number };
}

export type GanTrainerEvents = StageTrainerEvents<GanProgressEvent>;

function mean(t: Tensor): number {
  const values = t.toArray();
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

export class GanTrainer extends StageTrainer<GanProgressEvent> {
  readonly stage = 3;
  readonly model: KdsrStudent;
  readonly optimizer: Adam;
  readonly discriminatorOptimizer: Adam;
  readonly ema: Ema;
  private readonly generatorParams: Array<[string, Parameter]>;
  private readonly discriminatorParams: Array<[string, Parameter]>;

  constructor(private readonly options: GanTrainerOptions) {
    super(options.data, options.validation);
    if (options.schedule) validateSchedule(options.schedule);
    if (options.discriminatorSchedule) validateSchedule(options.discriminatorSchedule);
    this.model = options.student;
    this.generatorParams = options.student.namedParameters();
    this.discriminatorParams = options.discriminator.namedParameters();
    this.optimizer = new Adam(this.generatorParams, options.optimizer);
    this.discriminatorOptimizer = new Adam(this.discriminatorParams, options.discriminatorOptimizer);
    this.ema = new Ema(this.generatorParams, options.emaDecay ?? KDSR_GAN_EMA_DECAY);
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
      const losses = { l1: l1.toArray()[0], kd: kd.toArray()[0], percep: percep.toArray()[0], ganG: ganG.toArray()[0], total: total.toArray()[0] };
      checkFinite(this.updates + 1, losses);
      const norm = gradNorm(this.generatorParams.map(([, p]) => p));
      if (!Number.isFinite(norm)) throw new NonFiniteError(this.updates + 1, 'the generator gradient norm', norm);
      // A view without the graph: the discriminator step sees sr as a constant.
      return { sr: out.sr.reshape(out.sr.shape), losses, norm };
    });
  }

  /** Step 3: real and fake passes, their gradients summed. */
  private discriminatorPass(batch: Batch, sr: Tensor): { dReal: number; dFake: number; norm: number; output: { real: number; fake: number } } {
    const d = this.options.discriminator;
    return tidy(() => {
      const realOutput = d.forward(batch.hr, { training: true });
      const real = F.bceWithLogits(realOutput, 1);
      backward(real);
      const fakeOutput = d.forward(sr, { training: true });
      const fake = F.bceWithLogits(fakeOutput, 0);
      backward(fake);
      const losses = { dReal: real.toArray()[0], dFake: fake.toArray()[0] };
      checkFinite(this.updates + 1, losses);
      const norm = gradNorm(this.discriminatorParams.map(([, p]) => p));
      if (!Number.isFinite(norm)) throw new NonFiniteError(this.updates + 1, 'the discriminator gradient norm', norm);
      return { ...losses, norm, output: { real: mean(realOutput), fake: mean(fakeOutput) } };
    });
  }

  /**
   * One iteration. Both updates are applied only after both passes: neither reads what the other
   * updates (the discriminator pass sees the SR computed before the generator's update), so this is
   * the recipe's order, and a non-finite loss or gradient norm (NonFiniteError) leaves every weight
   * as it was.
   */
  protected update(batch: Batch): Omit<GanProgressEvent, StepTiming> {
    const rates = this.learningRates;
    let sr: Tensor | null = null;
    try {
      const g = this.generatorPass(batch);
      sr = g.sr;
      const d = this.discriminatorPass(batch, sr);
      this.optimizer.step(rates.generator);
      this.discriminatorOptimizer.step(rates.discriminator);
      this.ema.update();
      return {
        losses: { ...g.losses, dReal: d.dReal, dFake: d.dFake },
        lr: rates.generator,
        discriminatorLr: rates.discriminator,
        gradNorm: g.norm,
        discriminatorGradNorm: d.norm,
        discriminatorOutput: d.output,
      };
    } finally {
      this.options.student.zeroGrad();
      this.options.discriminator.zeroGrad();
      sr?.dispose();
    }
  }

  /**
   * Both optimisers' moments (adam.*, adam_d.*), the EMA (ema.*), the discriminator with its
   * spectral-norm state (disc.*) and the teacher encoder (teacher.E.*).
   */
  protected trainingState(): { groups: Record<string, Map<string, Tensor>>; json: Record<string, unknown> } {
    const g = this.optimizer.state();
    const d = this.discriminatorOptimizer.state();
    return {
      groups: { adam: g.tensors, adam_d: d.tensors, ema: this.ema.weights(), disc: this.options.discriminator.stateDict(), 'teacher.E': this.options.teacher.E.stateDict() },
      json: { optimizerSteps: g.steps, discriminatorOptimizerSteps: d.steps, optimizer: this.optimizer.options, discriminatorOptimizer: this.discriminatorOptimizer.options },
    };
  }

  protected restoreTrainingState(checkpoint: LoadedCheckpoint): void {
    const { json, source } = checkpoint;
    this.optimizer.loadState(checkpoint.group('adam'), json.optimizerSteps as Record<string, number>, source);
    this.discriminatorOptimizer.loadState(checkpoint.group('adam_d'), json.discriminatorOptimizerSteps as Record<string, number>, source);
    this.ema.load(checkpoint.group('ema'), source);
    this.options.discriminator.loadStateDict(checkpoint.group('disc'), { source: `${source} (disc.*)` });
    this.options.teacher.E.loadStateDict(checkpoint.group('teacher.E'), { source: `${source} (teacher.E.*)` });
  }

  protected weightsInfo(): CheckpointInfo {
    return { role: 'student', preset: this.options.preset ?? 'custom', config: this.model.config, stage: 3, step: this.updates };
  }

  dispose(): void {
    this.optimizer.dispose();
    this.discriminatorOptimizer.dispose();
    this.ema.dispose();
  }
}
