// `stage<k>.run.json`: what decides the batches and the network of a training run, so that --resume
// refuses to continue a different run. The data is identified by its content (image names and
// sizes, or LMDB keys), not by where it lies, so a run resumes from another clone or machine;
// records of earlier versions hold only the path, and then the data source's own check (the number
// of images) is what remains.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomicSync } from '@kdsr/cuda';
import type { KdsrConfig } from '@kdsr/core';
import { Dataset, datasetLength } from '@kdsr/data';
import type { DegradationKind } from './training-data';

export interface RunDescription {
  stage: 1 | 2 | 3;
  /** Where the data was when the run was last started (informative). */
  data: string;
  /** Content identity of the data. */
  dataset?: { images: number; digest: string };
  /** The teacher file stages 2 and 3 started from (informative: the frozen encoder travels in the checkpoint). */
  teacher: string | null;
  /** Stage 3: the student, VGG19 and discriminator files it started from (informative, as the teacher). */
  student?: string;
  vgg?: string;
  dCheckpoint?: string | null;
  scale: number;
  batch: number;
  patch: number;
  seed: number;
  degradation: DegradationKind;
  noise: number;
  /** realesrgan: the training-pair pool's size (0: none). */
  pool?: number;
  /** Stage 3: the discriminator's feature channels. */
  discriminatorFeatures?: number;
  /** Stages 1 and 2 (stage 3 takes its networks from the checkpoints it starts from). */
  network?: Pick<KdsrConfig, 'nFeats' | 'nBlocks' | 'nResblocks'>;
}

/** Image names and sizes of a folder, or the keys of an LMDB, hashed. */
export function datasetIdentity(dataset: Dataset): { images: number; digest: string } {
  const hash = createHash('sha256');
  if (dataset.kind === 'folder') for (const f of dataset.files) hash.update(`${f.split(path.sep).join('/')}\t${fs.statSync(path.join(dataset.root, f)).size}\n`);
  else if (dataset.kind === 'paired') for (const p of dataset.pairs) hash.update(`${p.hr}\t${p.lr}\n`);
  else for (const k of dataset.keys) hash.update(`${k}\n`);
  return { images: datasetLength(dataset), digest: hash.digest('hex').slice(0, 16) };
}

/** Throws unless `run` continues the saved run; returns notes on what moved. */
export function checkResumable(file: string, run: RunDescription): string[] {
  if (!fs.existsSync(file)) throw new Error(`cannot resume: ${file} not found (it is written when a run starts)`);
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as RunDescription;
  const informative: Array<keyof RunDescription> = ['data', 'teacher', 'student', 'vgg', 'dCheckpoint'];
  const strict = (Object.keys(run) as Array<keyof RunDescription>).filter((k) => !informative.includes(k) && (k !== 'dataset' || saved.dataset !== undefined));
  const differences = strict
    .filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(run[k]))
    .map((k) =>
      k === 'dataset'
        ? `data: ${run.data} holds other images than the saved run's data (${saved.dataset!.images} images then, ${run.dataset!.images} now)`
        : `${k}: ${JSON.stringify(saved[k])} in the saved run, ${JSON.stringify(run[k])} now`,
    );
  if (differences.length > 0) throw new Error(`cannot resume a different run (${file}):\n  ${differences.join('\n  ')}`);
  const notes: string[] = [];
  if (path.resolve(saved.data) !== path.resolve(run.data)) notes.push(`note: the data is now ${run.data} (the run started with ${saved.data})`);
  if (saved.teacher && run.teacher && path.resolve(saved.teacher) !== path.resolve(run.teacher)) notes.push(`note: the teacher is now ${run.teacher} (the run started with ${saved.teacher})`);
  return notes;
}

export function writeRunRecord(file: string, run: RunDescription): void {
  writeFileAtomicSync(file, JSON.stringify(run, null, 2) + '\n');
}
