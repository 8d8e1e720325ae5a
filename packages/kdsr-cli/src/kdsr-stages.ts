// Stages 1 and 2 of `kdsr train` (@kdsr/core's Trainer): stage 1 builds the teacher from the preset
// and the sizes given; stage 2 loads the trained teacher and makes the student from it (generator
// copied, fresh encoder), and trains it with L1 + KD against the frozen teacher encoder.
import * as fs from 'fs';
import * as path from 'path';
import { ADAM_BETAS_CLASSIC, KdsrConfig, kdsrConfig, KdsrStudent, KdsrTeacher, loadKdsrModel, ProgressEvent, studentFromTeacher, Trainer } from '@kdsr/core';
import type { TrainingStage, TrainOptions } from './training-stage';

function buildModels(options: TrainOptions & { stage: 1 | 2 }): { teacher: KdsrTeacher; student?: KdsrStudent; preset: string; teacherFile: string | null } {
  if (options.stage === 1) {
    if (options.teacher) throw new Error('--teacher is for stages 2 and 3 (stage 1 trains the teacher)');
    // Only the sizes given override the preset's.
    const sizes = Object.fromEntries(
      (['nFeats', 'nBlocks', 'nResblocks'] as const).filter((k) => options[k] !== undefined).map((k) => [k, options[k]]),
    ) as Partial<Pick<KdsrConfig, 'nFeats' | 'nBlocks' | 'nResblocks'>>;
    const config = kdsrConfig(options.preset ?? 'M', { scale: options.scale ?? 4, ...sizes });
    const preset = Object.keys(sizes).length > 0 ? 'custom' : (options.preset ?? 'M');
    return { teacher: new KdsrTeacher(config, { seed: options.seed, device: options.device }), preset, teacherFile: null };
  }
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

function formatProgress(e: ProgressEvent, steps: number): string {
  const parts = e.losses.kd !== undefined ? ` (l1 ${e.losses.l1?.toFixed(5) ?? '-'}, kd ${e.losses.kd.toFixed(5)})` : '';
  return `step ${e.step}/${steps}  loss ${e.losses.total.toFixed(5)}${parts}  lr ${e.lr.toExponential(2)}  |g| ${e.gradNorm.toExponential(2)}  ${e.samplesPerSecond.toFixed(1)} samples/s  batch wait ${e.dataWaitMs.toFixed(0)} ms`;
}

export function kdsrStage(options: TrainOptions & { stage: 1 | 2 }): TrainingStage<ProgressEvent> {
  const { teacher, student, preset, teacherFile } = buildModels(options);
  const model = student ?? teacher;
  const c = model.config;
  const role = options.stage === 1 ? 'teacher' : 'student';
  const sizes = `n_feats ${c.nFeats}, n_blocks ${c.nBlocks}, n_resblocks ${c.nResblocks}, x${c.scale}`;
  const parameters = model.parameters().reduce((n, p) => n + p.value.size, 0);
  return {
    scale: c.scale,
    run: { teacher: teacherFile, network: { nFeats: c.nFeats, nBlocks: c.nBlocks, nResblocks: c.nResblocks } },
    summary: `${role} ${preset} (${sizes}, ${parameters.toLocaleString('en-US')} parameters)`,
    network: `${role} ${sizes}`,
    createTrainer: (data, validation) =>
      new Trainer({
        stage: options.stage,
        teacher,
        student,
        data,
        preset,
        optimizer: { lr: options.lr ?? 2e-4, ...ADAM_BETAS_CLASSIC },
        schedule: options.lrDecay ?? { type: 'step', stepSize: 125_000, gamma: 0.5 },
        kd: { weight: options.kdWeight },
        warmupSteps: options.warmupSteps,
        ema: options.ema !== undefined ? { decay: options.ema } : undefined,
        validation,
      }),
    formatProgress,
    dispose: () => {
      teacher.dispose();
      student?.dispose();
    },
  };
}
