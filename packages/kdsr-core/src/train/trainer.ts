// The two-stage KDSR trainer. Stage 1 trains the teacher (KD-IDE on LR ⊕ unshuffled HR, plus the
// generator) with L1. Stage 2 trains the student — its generator copied from the teacher, a fresh
// E_st — with L1 + λ·KD against the frozen teacher encoder's D', optionally after KD-only warm-up
// steps. The update loop and checkpoints are StageTrainer's; update() reads top to bottom.
import { Tensor, tidy } from '@kdsr/cuda';
import { backward } from '../autograd/backward';
import { noGrad } from '../autograd/graph';
import { CheckpointInfo, saveWeights } from '../checkpoint/checkpoint';
import type { LoadedCheckpoint } from '../checkpoint/training-checkpoint';
import type { KdsrStudent, KdsrTeacher } from '../models/kdsr';
import type { Parameter } from '../nn/parameter';
import { Adam, AdamOptions } from './adam';
import type { Batch, DataSource } from './data-source';
import { Ema } from './ema';
import { gradNorm } from './grad-norm';
import { KdOptions, kdLoss, l1Loss, studentLosses } from './losses';
import { learningRate, LrSchedule, validateSchedule } from './schedule';
import { checkFinite, modelDtype, NonFiniteError, StageTrainer, StageTrainerEvents, StepEvent, StepTiming, Validation } from './stage-trainer';

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
  validation?: Validation;
}

export interface StepLosses {
  l1?: number;
  kd?: number;
  total: number;
}

export interface ProgressEvent extends StepEvent {
  losses: StepLosses;
  gradNorm: number;
}

export type TrainerEvents = StageTrainerEvents<ProgressEvent>;

export class Trainer extends StageTrainer<ProgressEvent> {
  readonly stage: 1 | 2;
  readonly model: KdsrTeacher | KdsrStudent;
  readonly optimizer: Adam;
  readonly ema: Ema | null;
  private readonly trained: Array<[string, Parameter]>;

  constructor(private readonly options: TrainerOptions) {
    super(options.data, options.validation);
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

  /** batch → forward → loss → backward → grad norm → update. */
  protected update(batch: Batch): Omit<ProgressEvent, StepTiming> {
    const lr = this.learningRate;
    const warmup = this.stage === 2 && this.updates < (this.options.warmupSteps ?? 0);
    try {
      return tidy(() => {
        const { total, parts } = this.losses(batch, warmup);
        backward(total);
        const losses: StepLosses = { total: total.toArray()[0] };
        for (const [name, t] of Object.entries(parts)) losses[name as 'l1' | 'kd'] = t.toArray()[0];
        const gradientNorm = gradNorm(this.trained.map(([, p]) => p));
        checkFinite(this.updates + 1, losses);
        if (!Number.isFinite(gradientNorm)) throw new NonFiniteError(this.updates + 1, 'the gradient norm', gradientNorm);
        this.optimizer.step(lr);
        this.ema?.update();
        return { losses, lr, gradNorm: gradientNorm };
      });
    } finally {
      this.model.zeroGrad();
    }
  }

  /** Adam's moments (adam.*), the EMA (ema.*) and, in stage 2, the frozen teacher encoder (teacher.E.*). */
  protected trainingState(): { groups: Record<string, Map<string, Tensor>>; json: Record<string, unknown> } {
    const { tensors, steps } = this.optimizer.state();
    const groups: Record<string, Map<string, Tensor>> = { adam: tensors };
    if (this.ema) groups.ema = this.ema.weights();
    if (this.stage === 2) groups['teacher.E'] = this.options.teacher.E.stateDict();
    return { groups, json: { optimizerSteps: steps, optimizer: this.optimizer.options } };
  }

  protected restoreTrainingState(checkpoint: LoadedCheckpoint): void {
    this.optimizer.loadState(checkpoint.group('adam'), checkpoint.json.optimizerSteps as Record<string, number>, checkpoint.source);
    if (this.ema) {
      // A run that switches EMA on when it resumes starts the average from the resumed weights.
      const saved = checkpoint.group('ema');
      if (saved.size > 0) this.ema.load(saved, checkpoint.source);
      else this.ema.reset();
    }
    if (this.stage === 2) this.options.teacher.E.loadStateDict(checkpoint.group('teacher.E'), { source: checkpoint.source });
  }

  protected weightsInfo(): CheckpointInfo {
    return { role: this.stage === 1 ? 'teacher' : 'student', preset: this.options.preset ?? 'custom', config: this.model.config, stage: this.stage, step: this.updates };
  }

  /** Writes the trained weights alone (for inference or release); with ema, the averaged weights. */
  exportWeights(file: string, options: { ema?: boolean } = {}): void {
    if (options.ema && !this.ema) throw new Error('exportWeights: this trainer keeps no EMA (pass the ema option)');
    saveWeights(file, options.ema ? this.ema!.weights() : this.model.stateDict(), { ...this.weightsInfo(), ema: options.ema ?? false });
  }

  dispose(): void {
    this.optimizer.dispose();
    this.ema?.dispose();
  }
}
