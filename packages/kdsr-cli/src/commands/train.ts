// `kdsr train`: one run loop for the three stages — 1 trains the teacher, 2 distils a student from
// it, 3 fine-tunes the student as KDSR-GAN (the stages themselves: kdsr-stages.ts, gan-stage.ts) —
// on an HR folder or LMDB with the LR synthesised per batch (@kdsr/data's TrainingSource feeding a
// @kdsr/core trainer). Beside the checkpoints, `stage<k>.run.json` records what decides the batches
// and the networks, so --resume refuses to continue a different run; the checkpoint itself holds
// weights, optimiser state and the data position, so a resumed run makes exactly the updates of an
// uninterrupted one. Every stage writes the same log, curve and progress, and stops cleanly on
// Ctrl-C or SIGTERM.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkpointPaths, StepEvent, Validation } from '@kdsr/core';
import { makeDirectory, removeStaleTemporaryFiles, writeFileAtomicSync } from '@kdsr/cuda';
import { Dataset, parseTestSettings, scanDataset } from '@kdsr/data';
import { meanScores, scoreImage, superResolve, testPairs } from '../evaluation';
import { ganStage } from '../gan-stage';
import { kdsrStage } from '../kdsr-stages';
import { Progress, withProgress } from '../progress';
import { noteReferenceCpuKernels } from '../reference-cpu-notice';
import { openDatasetPath } from '../dataset-path';
import { checkResumable, datasetIdentity, RunDescription, writeRunRecord } from '../run-record';
import { writeTrainingCurve } from '../training-curve';
import { DegradationKind, trainingNoise, trainingPool, trainingSource } from '../training-data';
import type { TrainingStage, TrainOptions } from '../training-stage';

export type { TrainOptions } from '../training-stage';

/** The checkpoint of each stage: <out>/<name>.safetensors and <out>/<name>.train.safetensors. */
const CHECKPOINT_NAMES = { 1: 'teacher', 2: 'student', 3: 'gan' } as const;

/** Options that only some stages take, and what to say when another stage gets them. */
const STAGE_OPTIONS: ReadonlyArray<{ keys: ReadonlyArray<keyof TrainOptions>; stages: ReadonlyArray<1 | 2 | 3>; message: string }> = [
  { keys: ['student', 'vgg', 'dCheckpoint', 'dLr', 'dFeats', 'ganWeight'], stages: [3], message: 'for stage 3 (KDSR-GAN)' },
  { keys: ['preset', 'nFeats', 'nBlocks', 'nResblocks'], stages: [1], message: 'for stage 1: later stages take the network size from the teacher and student checkpoints' },
];

function optionName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function checkStageOptions(options: TrainOptions): void {
  for (const { keys, stages, message } of STAGE_OPTIONS) {
    const given = keys.filter((k) => options[k] !== undefined);
    if (given.length > 0 && !stages.includes(options.stage)) throw new Error(`${given.map(optionName).join(', ')} ${given.length === 1 ? 'is' : 'are'} ${message}`);
  }
  if (options.stage === 3 && options.warmupSteps > 0) throw new Error('--warmup-steps is for stage 2 (stage 3 starts from the trained student)');
  if (!options.val && (options.valEvery !== undefined || options.valSetting !== undefined)) throw new Error('--val-every and --val-setting need --val <HR folder>');
}

/** The default validation setting: the Gaussian8 middle (σ 2.6 at ×4, 1.3 at ×2) scaled to other factors, or KDSR-classic's anisotropic validation kernel with noise 10. */
function defaultValSetting(degradation: DegradationKind, scale: number): string {
  return degradation === 'aniso' ? 'aniso:4.0,1.5,120:10' : `iso:${Number(Math.min(4, 0.65 * scale).toFixed(2))}`;
}

export async function train(options: TrainOptions): Promise<void> {
  checkStageOptions(options);
  const noise = trainingNoise(options);
  const pool = trainingPool(options);
  makeDirectory(options.out);
  removeStaleTemporaryFiles(options.out);
  const base = path.join(options.out, CHECKPOINT_NAMES[options.stage]);
  const files = checkpointPaths(base);
  const runFile = path.join(options.out, `stage${options.stage}.run.json`);
  const existing = [files.weights, files.state].find((f) => fs.existsSync(f));
  if (!options.resume && existing) throw new Error(`${existing} exists: pass --resume to continue that run, or choose another --out`);
  // A run killed before its first checkpoint resumes from the start.
  const checkpointed = fs.existsSync(files.state);
  if (options.resume && !checkpointed && !fs.existsSync(runFile)) throw new Error(`nothing to resume in ${options.out}: ${files.state} not found`);
  if (options.resume && !checkpointed && existing) throw new Error(`cannot resume: ${files.state} is missing (only the weights ${existing} are there); start a new run in another --out`);

  const dataset = await openDatasetPath(options.data);
  const stage = options.stage === 3 ? ganStage(options) : kdsrStage({ ...options, stage: options.stage });
  try {
    await runStage(stage, options, { dataset, noise, pool, base, runFile, checkpointed });
  } finally {
    stage.dispose();
  }
}

async function runStage<E extends StepEvent>(
  stage: TrainingStage<E>,
  options: TrainOptions,
  at: { dataset: Dataset; noise: number; pool: number; base: string; runFile: string; checkpointed: boolean },
): Promise<void> {
  const { dataset, noise, pool, base, runFile, checkpointed } = at;
  const scale = stage.scale;
  const run: RunDescription = {
    stage: options.stage,
    data: path.resolve(options.data),
    dataset: datasetIdentity(dataset),
    ...stage.run,
    scale,
    batch: options.batch,
    patch: options.patch,
    seed: options.seed,
    degradation: options.degradation,
    noise,
    ...(options.degradation === 'realesrgan' ? { pool } : {}),
  };
  if (options.resume) for (const note of checkResumable(runFile, run)) process.stdout.write(note + '\n');
  if (!checkpointed) await checkReadable(dataset, options);

  const source = trainingSource(dataset, scale, { ...options, pool });
  const valSetting = options.val ? parseTestSettings(options.valSetting ?? defaultValSetting(options.degradation, scale), scale) : null;
  if (valSetting && valSetting.length !== 1) throw new Error(`--val-setting must name one setting, '${options.valSetting}' has ${valSetting.length}`);
  const valPairs = options.val && valSetting ? (await testPairs(options.val, valSetting, 0))[0] : [];
  const validation: Validation | undefined = valSetting
    ? {
        every: options.valEvery ?? 1000,
        run: (m) => meanScores(valPairs.map((p) => scoreImage(superResolve(m, p.lr, p.hr, { tile: 256, overlap: 16 }), p.hr, scale))).psnr,
      }
    : undefined;
  const trainer = stage.createTrainer(source, validation);

  const logFile = path.join(options.out, `stage${options.stage}.log.jsonl`);
  const record = (entry: Record<string, unknown>) => fs.appendFileSync(logFile, JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');
  const curveFile = path.join(options.out, `stage${options.stage}.curve.svg`);
  const drawCurve = () => writeTrainingCurve(logFile, curveFile, `kdsr train stage ${options.stage}: ${stage.network}, batch ${options.batch}, patch ${options.patch}`);
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
      process.stdout.write(`resuming stage ${options.stage} from update ${trainer.updates} (${checkpointPaths(base).state})\n`);
      // Entries after this update in the log are from the interrupted run, redone from here.
      record({ type: 'resume', step: trainer.updates });
      // Killed between the checkpoint and the files beside it: bring them up to date.
      if (weightsFileStale) trainer.saveCheckpoint(base);
      stage.afterCheckpoint?.(trainer.updates);
    } else if (options.resume) process.stdout.write(`no checkpoint in ${options.out} yet: starting stage ${options.stage} from update 0\n`);
    // Records where the data is now (and, for runs of earlier versions, what it holds).
    writeRunRecord(runFile, run);
    if (trainer.updates >= options.steps) {
      process.stdout.write(`already at update ${trainer.updates} of --steps ${options.steps}: nothing to do\n`);
      return;
    }
    noteReferenceCpuKernels(options.device);
    process.stdout.write(
      `stage ${options.stage}: ${stage.summary} on ${options.device}; ${options.degradation} degradation, ` +
        `${options.degradation === 'realesrgan' ? `pool of ${pool} pairs` : `noise ${noise}`}; batch ${options.batch} of ${options.patch}px LR patches from ${options.data}\n`,
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
        bar.log(stage.formatProgress(e, options.steps));
        record({ type: 'progress', ...(e as StepEvent) });
      }
    });
    trainer.on('validation', (e) => {
      bar.log(`step ${e.step}  validation PSNR ${e.value.toFixed(3)} dB (${options.val}, ${valSetting![0].name})`);
      record({ type: 'validation', step: e.step, psnr: e.value, setting: valSetting![0].name });
      drawCurve();
    });
    trainer.on('checkpoint', (e) => {
      stage.afterCheckpoint?.(e.step);
      bar.log(`step ${e.step}  checkpoint ${e.path}`);
      record({ type: 'checkpoint', ...e });
      drawCurve();
    });
    process.once('SIGINT', onInterrupt);
    process.once('SIGTERM', onInterrupt);
    await trainer.run(options.steps, { checkpoint: { path: base, every: options.saveEvery }, stop: () => interrupted !== null });
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
