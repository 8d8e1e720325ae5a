// `kdsr train`: stage 1 trains the teacher, stage 2 distils a student from a trained teacher, on an
// HR folder or LMDB with the classic degradation synthesised per batch (@kdsr/data's
// TrainingSource feeding @kdsr/core's Trainer). Beside the checkpoints, `stage<k>.run.json` records
// what decides the batches and the network, so --resume refuses to continue a different run; the
// checkpoint itself holds weights, Adam state and the data position, so a resumed run makes
// exactly the updates of an uninterrupted one.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ADAM_BETAS_CLASSIC,
  checkpointPaths,
  KdsrConfig,
  kdsrConfig,
  KdsrStudent,
  KdsrTeacher,
  loadKdsrModel,
  LrSchedule,
  PresetName,
  ProgressEvent,
  studentFromTeacher,
  Trainer,
} from '@kdsr/core';
import { makeDirectory, removeStaleTemporaryFiles, writeFileAtomicSync } from '@kdsr/cuda';
import { Dataset, parseTestSettings, scanDataset } from '@kdsr/data';
import { meanScores, scoreImage, superResolve, testPairs } from '../evaluation';
import { Progress, withProgress } from '../progress';
import { openDatasetPath } from '../dataset-path';
import { checkResumable, datasetIdentity, RunDescription, writeRunRecord } from '../run-record';
import { writeTrainingCurve } from '../training-curve';
import { DegradationKind, trainingSource } from '../training-data';

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
  /** Keep an exponential moving average of the weights with this decay (saved in the checkpoint). */
  ema?: number;
  /** Largest fraction of unreadable training images a new run accepts (they are skipped). */
  maxUnreadable: number;
}

/** The default validation setting: the Gaussian8 middle (σ 2.6 at ×4, 1.3 at ×2) scaled to other factors, or KDSR-classic's anisotropic validation kernel with noise 10. */
function defaultValSetting(degradation: DegradationKind, scale: number): string {
  return degradation === 'aniso' ? 'aniso:4.0,1.5,120:10' : `iso:${Number(Math.min(4, 0.65 * scale).toFixed(2))}`;
}

function buildModels(options: TrainOptions): { teacher: KdsrTeacher; student?: KdsrStudent; preset: string; teacherFile: string | null } {
  // Only the sizes given override the preset's.
  const sizes = Object.fromEntries(
    (['nFeats', 'nBlocks', 'nResblocks'] as const).filter((k) => options[k] !== undefined).map((k) => [k, options[k]]),
  ) as Partial<Pick<KdsrConfig, 'nFeats' | 'nBlocks' | 'nResblocks'>>;
  const sized = Object.keys(sizes).length > 0;
  if (options.stage === 1) {
    if (options.teacher) throw new Error('--teacher is for stage 2 (stage 1 trains the teacher)');
    const config = kdsrConfig(options.preset ?? 'M', { scale: options.scale ?? 4, ...sizes });
    return { teacher: new KdsrTeacher(config, { seed: options.seed, device: options.device }), preset: sized ? 'custom' : (options.preset ?? 'M'), teacherFile: null };
  }
  if (options.preset || sized) throw new Error('stage 2 takes the network size from the teacher: drop --preset and --n-feats/--n-blocks/--n-resblocks');
  const teacherFile = path.resolve(options.teacher ?? path.join(options.out, 'teacher.safetensors'));
  if (!fs.existsSync(teacherFile)) throw new Error(`stage 2 needs a trained teacher: ${teacherFile} not found (pass --teacher <checkpoint>)`);
  const { model, info } = loadKdsrModel(teacherFile, { device: options.device });
  if (!(model instanceof KdsrTeacher)) {
    model.dispose();
    throw new Error(`${teacherFile} is a ${info.role} checkpoint; stage 2 needs the stage-1 teacher`);
  }
  if (options.scale !== undefined && options.scale !== model.config.scale) {
    model.dispose();
    throw new Error(`--scale ${options.scale} does not match the teacher's x${model.config.scale}`);
  }
  return { teacher: model, student: studentFromTeacher(model, { seed: options.seed, device: options.device }), preset: info.preset, teacherFile };
}

/** The classic degradation's noise level N; the second-order pipeline draws its own noise (--noise refused). */
export function trainingNoise(options: TrainOptions): number {
  if (options.degradation !== 'realesrgan') return options.noise ?? (options.degradation === 'aniso' ? 25 : 0);
  if (options.noise !== undefined) throw new Error('--noise is for --degradation iso|aniso; realesrgan draws its own Gaussian / Poisson noise');
  return 0;
}

function formatProgress(e: ProgressEvent, steps: number): string {
  const parts = e.losses.kd !== undefined ? ` (l1 ${e.losses.l1?.toFixed(5) ?? '-'}, kd ${e.losses.kd.toFixed(5)})` : '';
  return `step ${e.step}/${steps}  loss ${e.losses.total.toFixed(5)}${parts}  lr ${e.lr.toExponential(2)}  |g| ${e.gradNorm.toExponential(2)}  ${e.samplesPerSecond.toFixed(1)} samples/s  batch wait ${e.dataWaitMs.toFixed(0)} ms`;
}

export async function train(options: TrainOptions & { stage: 1 | 2 }): Promise<void> {
  if (!options.val && (options.valEvery !== undefined || options.valSetting !== undefined)) throw new Error('--val-every and --val-setting need --val <HR folder>');
  makeDirectory(options.out);
  removeStaleTemporaryFiles(options.out);
  const role = options.stage === 1 ? 'teacher' : 'student';
  const base = path.join(options.out, role);
  const files = checkpointPaths(base);
  const runFile = path.join(options.out, `stage${options.stage}.run.json`);
  const existing = [files.weights, files.state].find((f) => fs.existsSync(f));
  if (!options.resume && existing) throw new Error(`${existing} exists: pass --resume to continue that run, or choose another --out`);
  // A run killed before its first checkpoint resumes from the start.
  const checkpointed = fs.existsSync(files.state);
  if (options.resume && !checkpointed && !fs.existsSync(runFile)) throw new Error(`nothing to resume in ${options.out}: ${files.state} not found`);
  if (options.resume && !checkpointed && existing) throw new Error(`cannot resume: ${files.state} is missing (only the weights ${existing} are there); start a new run in another --out`);

  const dataset = await openDatasetPath(options.data);
  const { teacher, student, preset, teacherFile } = buildModels(options);
  const model = student ?? teacher;
  const scale = model.config.scale;
  const noise = trainingNoise(options);
  const run: RunDescription = {
    stage: options.stage,
    data: path.resolve(options.data),
    dataset: datasetIdentity(dataset),
    teacher: teacherFile,
    scale,
    batch: options.batch,
    patch: options.patch,
    seed: options.seed,
    degradation: options.degradation,
    noise,
    network: { nFeats: model.config.nFeats, nBlocks: model.config.nBlocks, nResblocks: model.config.nResblocks },
  };
  if (options.resume) for (const note of checkResumable(runFile, run)) process.stdout.write(note + '\n');
  if (!checkpointed) await checkReadable(dataset, options);

  const source = trainingSource(dataset, scale, { ...options, noise });
  const valSetting = options.val ? parseTestSettings(options.valSetting ?? defaultValSetting(options.degradation, scale), scale) : null;
  if (valSetting && valSetting.length !== 1) throw new Error(`--val-setting must name one setting, '${options.valSetting}' has ${valSetting.length}`);
  const valPairs = options.val && valSetting ? (await testPairs(options.val, valSetting, 0))[0] : [];
  const trainer = new Trainer({
    stage: options.stage,
    teacher,
    student,
    data: source,
    preset,
    optimizer: { lr: options.lr ?? 2e-4, ...ADAM_BETAS_CLASSIC },
    schedule: options.lrDecay ?? { type: 'step', stepSize: 125_000, gamma: 0.5 },
    kd: { weight: options.kdWeight },
    warmupSteps: options.warmupSteps,
    ema: options.ema !== undefined ? { decay: options.ema } : undefined,
    validation: valSetting
      ? {
          every: options.valEvery ?? 1000,
          run: (m) => meanScores(valPairs.map((p) => scoreImage(superResolve(m, p.lr, p.hr, { tile: 256, overlap: 16 }), p.hr, scale))).psnr,
        }
      : undefined,
  });

  const logFile = path.join(options.out, `stage${options.stage}.log.jsonl`);
  const record = (entry: Record<string, unknown>) => fs.appendFileSync(logFile, JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');
  const curveFile = path.join(options.out, `stage${options.stage}.curve.svg`);
  const drawCurve = () =>
    writeTrainingCurve(logFile, curveFile, `kdsr train stage ${options.stage}: ${role} n_feats ${model.config.nFeats}, n_blocks ${model.config.nBlocks}, n_resblocks ${model.config.nResblocks}, x${scale}, batch ${options.batch}, patch ${options.patch}`);
  let progress: Progress | null = null;
  // Ctrl-C (SIGINT) and schedulers' or docker's SIGTERM: finish the update, save, exit 130 / 143.
  let interrupted: NodeJS.Signals | null = null;
  const exitCode = (signal: NodeJS.Signals) => (signal === 'SIGTERM' ? 143 : 130);
  const onInterrupt = (signal: NodeJS.Signals) => {
    interrupted = signal;
    progress?.log(`interrupted (${signal}): finishing this update and saving a checkpoint (press Ctrl-C again to quit at once)`);
    process.once(signal, () => process.exit(exitCode(signal)));
  };
  try {
    if (checkpointed) {
      const { weightsFileStale } = trainer.loadCheckpoint(base);
      process.stdout.write(`resuming stage ${options.stage} from update ${trainer.updates} (${files.state})\n`);
      // Entries after this update in the log are from the interrupted run, redone from here.
      record({ type: 'resume', step: trainer.updates });
      // Killed between the checkpoint and the weights file: bring the latter up to date.
      if (weightsFileStale) trainer.saveCheckpoint(base);
    } else if (options.resume) process.stdout.write(`no checkpoint in ${options.out} yet: starting stage ${options.stage} from update 0\n`);
    // Records where the data is now (and, for runs of earlier versions, what it holds).
    writeRunRecord(runFile, run);
    if (trainer.updates >= options.steps) {
      process.stdout.write(`already at update ${trainer.updates} of --steps ${options.steps}: nothing to do\n`);
      return;
    }
    const parameters = model.parameters().reduce((n, p) => n + p.value.size, 0);
    process.stdout.write(
      `stage ${options.stage}: ${role} ${preset} (n_feats ${model.config.nFeats}, n_blocks ${model.config.nBlocks}, n_resblocks ${model.config.nResblocks}, x${scale}, ` +
        `${parameters.toLocaleString('en-US')} parameters) on ${options.device}; ${options.degradation} degradation, noise ${noise}; ` +
        `batch ${options.batch} of ${options.patch}px LR patches from ${options.data}\n`,
    );
    progress = new Progress(`stage ${options.stage} [{bar}] {value}/{total} | loss {loss} | lr {lr} | {sps} samples/s | ETA {eta_formatted}`, options.steps, trainer.updates, {
      loss: '-',
      lr: '-',
      sps: '-',
    });
    const bar = progress;
    trainer.on('progress', (e) => {
      bar.update(e.step, { loss: e.losses.total.toFixed(5), lr: e.lr.toExponential(2), sps: e.samplesPerSecond.toFixed(1) });
      if (e.step % options.logEvery === 0 || e.step === options.steps) {
        bar.log(formatProgress(e, options.steps));
        record({ type: 'progress', ...e });
      }
    });
    trainer.on('validation', (e) => {
      bar.log(`step ${e.step}  validation PSNR ${e.value.toFixed(3)} dB (${options.val}, ${valSetting![0].name})`);
      record({ type: 'validation', step: e.step, psnr: e.value, setting: valSetting![0].name });
      drawCurve();
    });
    trainer.on('checkpoint', (e) => {
      bar.log(`step ${e.step}  checkpoint ${e.path}`);
      record({ type: 'checkpoint', ...e });
      drawCurve();
    });
    process.once('SIGINT', onInterrupt);
    process.once('SIGTERM', onInterrupt);
    while (trainer.updates < options.steps && !interrupted) {
      await trainer.step();
      if (trainer.updates % options.saveEvery === 0 || trainer.updates === options.steps || interrupted) trainer.saveCheckpoint(base);
    }
    if (interrupted) {
      progress.log(`stopped at update ${trainer.updates}; continue with the same command and --resume`);
      process.exitCode = exitCode(interrupted);
    }
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    process.removeListener('SIGTERM', onInterrupt);
    progress?.stop();
    await source.close();
    trainer.dispose();
    teacher.dispose();
    student?.dispose();
    for (const p of valPairs) p.lr.dispose();
  }
}

/**
 * A new run first decodes every training image once: the unreadable ones are listed in
 * `stage<k>.unreadable.txt` and skipped, and the run refuses to start when they are more than
 * --max-unreadable of all (or all of them).
 */
async function checkReadable(dataset: Dataset, options: TrainOptions): Promise<void> {
  const workers = options.workers ?? Math.max(1, os.cpus().length - 1);
  const { report } = await withProgress('check images', (onProgress) => scanDataset(dataset, { workers, onProgress }));
  const listFile = path.join(options.out, `stage${options.stage}.unreadable.txt`);
  if (report.corrupt.length === 0) {
    fs.rmSync(listFile, { force: true });
    return;
  }
  writeFileAtomicSync(listFile, report.corrupt.map((c) => c.message).join('\n') + '\n');
  const logFile = path.join(options.out, `stage${options.stage}.log.jsonl`);
  fs.appendFileSync(logFile, JSON.stringify({ time: new Date().toISOString(), type: 'unreadable', count: report.corrupt.length, images: report.total, list: listFile }) + '\n');
  const what = `${report.corrupt.length} of ${report.total} training images in ${options.data} are unreadable (listed in ${listFile})`;
  if (report.valid === 0) throw new Error(`${what}: there is nothing to train on; check them with kdsr scan`);
  const fraction = report.corrupt.length / report.total;
  if (fraction > options.maxUnreadable)
    throw new Error(`${what}: repair or remove them, or pass --max-unreadable ${Math.ceil(fraction * 100) / 100} to train on the others`);
  process.stdout.write(`warning: ${what}; training on the other ${report.valid}\n`);
}
