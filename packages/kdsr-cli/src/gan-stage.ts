// Stage 3 of `kdsr train`, KDSR-GAN (@kdsr/core's GanTrainer): fine-tunes the stage-2 student
// against a U-Net discriminator with L1 + perceptual (VGG19, user-supplied weights) + GAN + KD
// losses, with the frozen stage-1 teacher encoder, two Adam optimisers and an EMA of the student.
// Beside the checkpoint (<out>/gan.*) it keeps <out>/discriminator.safetensors (BasicSR keys, usable
// as --d-checkpoint).
import * as fs from 'fs';
import * as path from 'path';
import { loadSafetensors, saveSafetensors } from '@kdsr/cuda';
import {
  ADAM_BETAS_GAN,
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
import type { TrainingStage, TrainOptions } from './training-stage';

/** The recipe's rates (degradation.md §4.3): 1e-4 for both networks, constant. */
export const STAGE3_LR = 1e-4;
/** BasicSR's UNetDiscriminatorSN num_feat in KDSR-GAN. */
export const DISCRIMINATOR_FEATURES = 64;

function loadRole<T extends KdsrTeacher | KdsrStudent>(file: string, kind: new (...args: never[]) => T, what: string, device: string): { model: T; preset: string } {
  if (!fs.existsSync(file)) throw new Error(`stage 3 needs ${what}: ${file} not found`);
  const { model, info } = loadKdsrModel(file, { device });
  if (!(model instanceof kind)) {
    model.dispose();
    throw new Error(`${file} is a ${info.role} checkpoint; stage 3 needs ${what}`);
  }
  return { model, preset: info.preset };
}

function discriminatorWeights(file: string): Map<string, WeightValue> {
  if (!fs.existsSync(file)) throw new Error(`--d-checkpoint ${file}: not found`);
  return file.endsWith('.pth') || file.endsWith('.pt') ? new Map(readTorchStateDict(file).tensors) : new Map(loadSafetensors(file).tensors);
}

function formatProgress(e: GanProgressEvent, steps: number): string {
  const l = e.losses;
  const d = e.discriminatorOutput;
  return (
    `step ${e.step}/${steps}  G ${l.total.toFixed(5)} (l1 ${l.l1.toFixed(5)}, percep ${l.percep.toFixed(5)}, gan ${l.ganG.toFixed(5)}, kd ${l.kd.toFixed(5)})  ` +
    `D real ${l.dReal.toFixed(5)} fake ${l.dFake.toFixed(5)} (mean logit ${d.real.toFixed(3)} / ${d.fake.toFixed(3)})  ` +
    `lr ${e.lr.toExponential(2)}/${e.discriminatorLr.toExponential(2)}  ${e.samplesPerSecond.toFixed(1)} samples/s  batch wait ${e.dataWaitMs.toFixed(0)} ms`
  );
}

export function ganStage(options: TrainOptions): TrainingStage<GanProgressEvent> {
  if (!options.vgg) throw new Error("stage 3 needs VGG19 weights for the perceptual loss: pass --vgg vgg19-dcbb9e9d.pth (torchvision's file, https://download.pytorch.org/models/vgg19-dcbb9e9d.pth)");
  const vggFile = options.vgg;
  const teacherFile = path.resolve(options.teacher ?? path.join(options.out, 'teacher.safetensors'));
  const studentFile = path.resolve(options.student ?? path.join(options.out, 'student.safetensors'));
  const dFeats = options.dFeats ?? DISCRIMINATOR_FEATURES;
  const owned: Array<{ dispose(): void }> = [];
  try {
    const teacher = loadRole(teacherFile, KdsrTeacher, 'the stage-1 teacher (--teacher)', options.device).model;
    owned.push(teacher);
    const { model: student, preset } = loadRole(studentFile, KdsrStudent, 'the stage-2 student (--student)', options.device);
    owned.push(student);
    const c = student.config;
    if (JSON.stringify(teacher.config) !== JSON.stringify(c))
      throw new Error(`${teacherFile} and ${studentFile} are different networks (${JSON.stringify(teacher.config)} vs ${JSON.stringify(c)})`);
    if (options.scale !== undefined && options.scale !== c.scale) throw new Error(`--scale ${options.scale} does not match the student's x${c.scale}`);
    if ((options.patch * c.scale) % 8 !== 0) throw new Error(`--patch ${options.patch} gives ${options.patch * c.scale}px HR patches; the discriminator needs a multiple of 8`);
    const discriminator = new UNetDiscriminatorSN(3, dFeats, new Initializer({ seed: options.seed, device: options.device }));
    owned.push(discriminator);
    if (options.dCheckpoint) discriminator.loadStateDict(discriminatorWeights(options.dCheckpoint), { source: options.dCheckpoint });
    const vgg = loadVgg19(vggFile, { device: options.device });
    owned.push(vgg);
    const perceptual = new PerceptualLoss(vgg);
    owned.push(perceptual);
    const discriminatorFile = path.join(options.out, 'discriminator.safetensors');
    return {
      scale: c.scale,
      run: {
        teacher: teacherFile,
        student: studentFile,
        vgg: path.resolve(vggFile),
        dCheckpoint: options.dCheckpoint ? path.resolve(options.dCheckpoint) : null,
        discriminatorFeatures: dFeats,
      },
      summary:
        `student ${preset} (n_feats ${c.nFeats}, n_blocks ${c.nBlocks}, n_resblocks ${c.nResblocks}, x${c.scale}) from ${studentFile}; ` +
        `discriminator ${options.dCheckpoint ?? 'random'} (${dFeats} features); VGG19 ${vggFile}`,
      network: `KDSR-GAN student n_feats ${c.nFeats}, n_blocks ${c.nBlocks}, n_resblocks ${c.nResblocks}, x${c.scale}, discriminator ${dFeats} features`,
      createTrainer: (data, validation) =>
        new GanTrainer({
          teacher,
          student,
          discriminator,
          perceptual,
          data,
          optimizer: { lr: options.lr ?? STAGE3_LR, ...ADAM_BETAS_GAN },
          schedule: options.lrDecay ?? { type: 'constant' },
          discriminatorOptimizer: { lr: options.dLr ?? STAGE3_LR, ...ADAM_BETAS_GAN },
          kd: { weight: options.kdWeight },
          ganWeight: options.ganWeight,
          emaDecay: options.ema,
          preset,
          validation,
        }),
      formatProgress,
      afterCheckpoint: (step) => saveSafetensors(discriminatorFile, discriminator.stateDict(), { role: 'discriminator', step: String(step) }),
      dispose: () => owned.reverse().forEach((o) => o.dispose()),
    };
  } catch (error) {
    owned.reverse().forEach((o) => o.dispose());
    throw error;
  }
}
