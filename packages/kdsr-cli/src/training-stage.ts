// What `kdsr train` asks of a stage (kdsr-stages.ts: the teacher and the student; gan-stage.ts:
// KDSR-GAN): its networks, built or loaded, what identifies them in the run record, and its
// trainer. The run itself — checkpoints, resume, run record, logs, curve, progress, signals — is
// the same for every stage (commands/train.ts).
import type { DataSource, LrSchedule, PresetName, StageTrainer, StepEvent, Validation } from '@kdsr/core';
import type { RunDescription } from './run-record';
import type { DegradationKind } from './training-data';

export interface TrainOptions {
  stage: 1 | 2 | 3;
  data: string;
  out: string;
  teacher?: string;
  /** Stage 3: the stage-2 student (default <out>/student.safetensors). */
  student?: string;
  /** Stage 3: torchvision VGG19 weights for the perceptual loss. */
  vgg?: string;
  /** Stage 3: initial discriminator weights (BasicSR net_d .pth or safetensors). */
  dCheckpoint?: string;
  /** Stage 3: discriminator learning rate (default 1e-4). */
  dLr?: number;
  /** Stage 3: the discriminator's feature channels (default 64). */
  dFeats?: number;
  /** Stage 3: weight of the generator's GAN loss (default 1). */
  ganWeight?: number;
  preset?: PresetName;
  nFeats?: number;
  nBlocks?: number;
  nResblocks?: number;
  scale?: number;
  batch: number;
  patch: number;
  steps: number;
  /** Default 2e-4 (stages 1, 2) or 1e-4 (stage 3). */
  lr?: number;
  /** Default step:125000:0.5 (stages 1, 2) or constant (stage 3). */
  lrDecay?: LrSchedule;
  degradation: DegradationKind;
  /** Training noise level N (σn ~ U(0, N)); default 0 for iso, 25 for aniso (not used by realesrgan). */
  noise?: number;
  /** realesrgan: the training-pair pool's size (default 180 rounded to a multiple of --batch; 0: none). */
  pool?: number;
  kdWeight: number;
  warmupSteps: number;
  val?: string;
  /** Validate every this many updates (default 1000). */
  valEvery?: number;
  valSetting?: string;
  saveEvery: number;
  logEvery: number;
  resume: boolean;
  device: string;
  seed: number;
  workers?: number;
  /** Keep an exponential moving average of the weights with this decay (saved in the checkpoint; stage 3 always keeps one). */
  ema?: number;
  /** Largest fraction of unreadable training images a new run accepts (they are skipped). */
  maxUnreadable: number;
}

export interface TrainingStage<E extends StepEvent> {
  scale: number;
  /** What the stage adds to the run record: its networks and the files it started from. */
  run: Pick<RunDescription, 'teacher'> & Partial<RunDescription>;
  /** The networks, for the start-up line, e.g. "teacher M (n_feats 64, ..., 5,812,345 parameters)". */
  summary: string;
  /** The networks, for the training curve's title. */
  network: string;
  createTrainer(data: DataSource, validation?: Validation): StageTrainer<E>;
  /** The log line of an update. */
  formatProgress(event: E, steps: number): string;
  /** After every checkpoint and after resuming: files the stage keeps beside its checkpoint. */
  afterCheckpoint?(step: number): void;
  /** Frees the networks. */
  dispose(): void;
}
