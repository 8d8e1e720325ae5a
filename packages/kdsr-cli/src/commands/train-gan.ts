// `kdsr train --stage 3`: KDSR-GAN's stage 3 fine-tunes the stage-2 student against a U-Net
// discriminator with L1 + perceptual (VGG19, user-supplied weights) + GAN + KD losses, with the
// frozen stage-1 teacher encoder, two Adam optimisers and an EMA of the student (@kdsr/core's
// GanTrainer), on the same HR data and synthesised degradations as stages 1 and 2. Checkpoints:
// <out>/gan.safetensors (+ .train.safetensors) and <out>/discriminator.safetensors (BasicSR keys,
// usable as --d-checkpoint); stage3.run.json guards --resume as for the other stages.
import * as fs from 'fs';
import * as path from 'path';
import { loadSafetensors, makeDirectory, removeStaleTemporaryFiles, saveSafetensors } from '@kdsr/cuda';
import {
  ADAM_BETAS_GAN,
  checkpointPaths,
  GanProgressEvent,
  GanTrainer,
  Initializer,
  KdsrStudent,
  KdsrTeacher,
  loadKdsrModel,
  loadVgg19,
  PerceptualLoss,
  readTorchStateDict,
  UNetDiscriminatorSN,
  WeightValue,
} from '@kdsr/core';
import type { PrefetchingSource } from '@kdsr/data';
import { openDatasetPath } from '../dataset-path';
import { Progress } from '../progress';
import { trainingSource } from '../training-data';
import { checkResumable, datasetIdentity, RunDescription, writeRunRecord } from '../run-record';
import { TrainOptions, trainingNoise } from './train';

/** The recipe's rates (degradation.md §4.3): 1e-4 for both networks, constant. */
export const STAGE3_LR = 1e-4;
const DISCRIMINATOR_FEATURES = 64;

function loadRole<T extends KdsrTeacher | KdsrStudent>(file: string, kind: new (...args: never[]) => T, what: string, device: string): T {
  if (!fs.existsSync(file)) throw new Error(`stage 3 needs ${what}: ${file} not found`);
  const { model, info } = loadKdsrModel(file, { device });
  if (!(model instanceof kind)) {
    model.dispose();
    throw new Error(`${file} is a ${info.role} checkpoint; stage 3 needs ${what}`);
  }
  return model;
}

function discriminatorWeights(file: string): Map<string, WeightValue> {
  if (!fs.existsSync(file)) throw new Error(`--d-checkpoint ${file}: not found`);
  return file.endsWith('.pth') || file.endsWith('.pt') ? new Map(readTorchStateDict(file).tensors) : new Map(loadSafetensors(file).tensors);
}

function formatProgress(e: GanProgressEvent, steps: number): string {
  const l = e.losses;
  return (
    `step ${e.step}/${steps}  G ${l.gTotal.toFixed(5)} (l1 ${l.l1.toFixed(5)}, percep ${l.percep.toFixed(5)}, gan ${l.ganG.toFixed(5)}, kd ${l.kd.toFixed(5)})  ` +
    `D real ${l.dReal.toFixed(5)} fake ${l.dFake.toFixed(5)}  lr ${e.lr.toExponential(2)}/${e.discriminatorLr.toExponential(2)}  ${e.samplesPerSecond.toFixed(1)} samples/s  batch wait ${e.dataWaitMs.toFixed(0)} ms`
  );
}

export async function trainGan(options: TrainOptions): Promise<void> {
  const ignored = (['preset', 'nFeats', 'nBlocks', 'nResblocks', 'val', 'valEvery', 'valSetting'] as const).filter((k) => options[k] !== undefined);
  if (ignored.length > 0 || options.warmupSteps > 0)
    throw new Error(`stage 3 takes the networks from the teacher and student checkpoints and has no warm-up or validation: drop ${[...ignored, ...(options.warmupSteps > 0 ? ['warmupSteps'] : [])].map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`);
  if (!options.vgg) throw new Error("stage 3 needs VGG19 weights for the perceptual loss: pass --vgg vgg19-dcbb9e9d.pth (torchvision's file, https://download.pytorch.org/models/vgg19-dcbb9e9d.pth)");
  makeDirectory(options.out);
  removeStaleTemporaryFiles(options.out);
  const base = path.join(options.out, 'gan');
  const files = checkpointPaths(base);
  const runFile = path.join(options.out, 'stage3.run.json');
  const discriminatorFile = path.join(options.out, 'discriminator.safetensors');
  if (!options.resume && fs.existsSync(files.weights)) throw new Error(`${files.weights} exists: pass --resume to continue that run, or choose another --out`);
  if (options.resume && !fs.existsSync(files.weights)) throw new Error(`nothing to resume: ${files.weights} not found`);

  const dataset = await openDatasetPath(options.data);
  const teacherFile = path.resolve(options.teacher ?? path.join(options.out, 'teacher.safetensors'));
  const studentFile = path.resolve(options.student ?? path.join(options.out, 'student.safetensors'));
  const teacher = loadRole(teacherFile, KdsrTeacher, 'the stage-1 teacher (--teacher)', options.device);
  let student: KdsrStudent | null = null;
  let discriminator: UNetDiscriminatorSN | null = null;
  let perceptual: PerceptualLoss | null = null;
  let source: PrefetchingSource | null = null;
  let trainer: GanTrainer | null = null;
  let progress: Progress | null = null;
  let interrupted = false;
  const onInterrupt = () => {
    interrupted = true;
    progress?.log('interrupted: finishing this iteration and saving a checkpoint (press Ctrl-C again to quit at once)');
    process.once('SIGINT', () => process.exit(130));
  };
  try {
    student = loadRole(studentFile, KdsrStudent, 'the stage-2 student (--student)', options.device);
    const scale = student.config.scale;
    if (JSON.stringify(teacher.config) !== JSON.stringify(student.config))
      throw new Error(`${teacherFile} and ${studentFile} are different networks (${JSON.stringify(teacher.config)} vs ${JSON.stringify(student.config)})`);
    if (options.scale !== undefined && options.scale !== scale) throw new Error(`--scale ${options.scale} does not match the student's x${scale}`);
    if ((options.patch * scale) % 8 !== 0) throw new Error(`--patch ${options.patch} gives ${options.patch * scale}px HR patches; the discriminator needs a multiple of 8`);
    const noise = trainingNoise(options);
    const run: RunDescription = {
      stage: 3,
      data: path.resolve(options.data),
      dataset: datasetIdentity(dataset),
      teacher: teacherFile,
      student: studentFile,
      vgg: path.resolve(options.vgg),
      dCheckpoint: options.dCheckpoint ? path.resolve(options.dCheckpoint) : null,
      scale,
      batch: options.batch,
      patch: options.patch,
      seed: options.seed,
      degradation: options.degradation,
      noise,
    };
    if (options.resume) for (const note of checkResumable(runFile, run)) process.stdout.write(note + '\n');

    discriminator = new UNetDiscriminatorSN(3, DISCRIMINATOR_FEATURES, new Initializer({ seed: options.seed, device: options.device }));
    if (options.dCheckpoint) discriminator.loadStateDict(discriminatorWeights(options.dCheckpoint), { source: options.dCheckpoint });
    perceptual = new PerceptualLoss(loadVgg19(options.vgg, { device: options.device }));
    source = trainingSource(dataset, scale, { ...options, noise });
    const d = discriminator;
    trainer = new GanTrainer({
      teacher,
      student,
      discriminator,
      perceptual,
      data: source,
      optimizer: { lr: options.lr ?? STAGE3_LR, ...ADAM_BETAS_GAN },
      schedule: options.lrDecay ?? { type: 'constant' },
      discriminatorOptimizer: { lr: options.dLr ?? STAGE3_LR, ...ADAM_BETAS_GAN },
      kd: { weight: options.kdWeight },
      ganWeight: options.ganWeight,
      emaDecay: options.ema,
      preset: 'custom',
    });
    const logFile = path.join(options.out, 'stage3.log.jsonl');
    const record = (entry: Record<string, unknown>) => fs.appendFileSync(logFile, JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');
    if (options.resume) {
      trainer.loadCheckpoint(base);
      process.stdout.write(`resuming stage 3 from iteration ${trainer.updates} (${files.weights})\n`);
    } else writeRunRecord(runFile, run);
    if (trainer.updates >= options.steps) {
      process.stdout.write(`already at iteration ${trainer.updates} of --steps ${options.steps}: nothing to do\n`);
      return;
    }
    const c = student.config;
    process.stdout.write(
      `stage 3 (KDSR-GAN): student n_feats ${c.nFeats}, n_blocks ${c.nBlocks}, n_resblocks ${c.nResblocks}, x${scale} from ${studentFile}; ` +
        `discriminator ${options.dCheckpoint ?? 'random'}; VGG19 ${options.vgg}; ${options.degradation} degradation, noise ${noise}; ` +
        `batch ${options.batch} of ${options.patch}px LR patches from ${options.data} on ${options.device}\n`,
    );
    progress = new Progress('stage 3 [{bar}] {value}/{total} | G {g} | D {d} | {sps} samples/s | ETA {eta_formatted}', options.steps, trainer.updates, { g: '-', d: '-', sps: '-' });
    const bar = progress;
    trainer.on('progress', (e) => {
      bar.update(e.step, { g: e.losses.gTotal.toFixed(4), d: (e.losses.dReal + e.losses.dFake).toFixed(4), sps: e.samplesPerSecond.toFixed(1) });
      if (e.step % options.logEvery === 0 || e.step === options.steps) {
        bar.log(formatProgress(e, options.steps));
        record({ type: 'progress', ...e });
      }
    });
    trainer.on('checkpoint', (e) => {
      saveSafetensors(discriminatorFile, d.stateDict(), { role: 'discriminator', step: String(e.step) });
      bar.log(`step ${e.step}  checkpoint ${e.path}`);
      record({ type: 'checkpoint', ...e });
    });
    process.once('SIGINT', onInterrupt);
    while (trainer.updates < options.steps && !interrupted) {
      await trainer.step();
      if (trainer.updates % options.saveEvery === 0 || trainer.updates === options.steps || interrupted) trainer.saveCheckpoint(base);
    }
    if (interrupted) {
      progress.log(`stopped at iteration ${trainer.updates}; continue with the same command and --resume`);
      process.exitCode = 130;
    }
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    progress?.stop();
    await source?.close();
    trainer?.dispose();
    perceptual?.vgg.dispose();
    perceptual?.dispose();
    discriminator?.dispose();
    student?.dispose();
    teacher.dispose();
  }
}
