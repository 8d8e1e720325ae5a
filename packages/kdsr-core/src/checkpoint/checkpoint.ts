// Checkpoints. Weights: one safetensors file with the original PyTorch key names (so the official
// tools read it after a plain conversion) and metadata saying what it is. Training state: a sibling
// '<name>.train.safetensors' holding the trained weights again ('model.*'), the optimiser moments,
// EMA weights, the stage-2 teacher's encoder and, in the metadata, step counts and the data
// source's position. The state file alone is the checkpoint (one file, written atomically: a kill
// leaves either the previous complete one or the new one); it is written first, then the weights
// file is replaced by the same weights, so that '<name>.safetensors' is always the latest model
// for inference. State files of earlier versions hold no 'model.*': their weights are read from
// the weights file, which must then be from the same update.
import * as fs from 'fs';
import { loadSafetensors, readSafetensorsHeader, saveSafetensors, Tensor } from '@kdsr/cuda';
import type { KdsrConfig } from '../models/config';

export const CHECKPOINT_FORMAT = 'kdsr-checkpoint-v1';

export type ModelRole = 'teacher' | 'student';

export interface CheckpointInfo {
  role: ModelRole;
  /** 'M', 'L', 'GAN' or 'custom'. */
  preset: string;
  config: KdsrConfig;
  /** 1 (teacher), 2 (student) or 3 (KDSR-GAN student). */
  stage: 1 | 2 | 3;
  /** Updates made when it was written. */
  step: number;
  /** Whether the weights are the EMA average rather than the raw weights. */
  ema?: boolean;
}

/** '<base>.safetensors' (latest weights) and '<base>.train.safetensors' (the checkpoint) for a base path given with or without the extension. */
export function checkpointPaths(base: string): { weights: string; state: string } {
  const stem = base.endsWith('.safetensors') ? base.slice(0, -'.safetensors'.length) : base;
  return { weights: `${stem}.safetensors`, state: `${stem}.train.safetensors` };
}

function encodeInfo(info: CheckpointInfo): Record<string, string> {
  return {
    format: CHECKPOINT_FORMAT,
    role: info.role,
    preset: info.preset,
    scale: String(info.config.scale),
    stage: String(info.stage),
    step: String(info.step),
    ema: String(info.ema ?? false),
    config: JSON.stringify(info.config),
  };
}

export function decodeInfo(metadata: Record<string, string>, source: string): CheckpointInfo {
  if (metadata.format === `${CHECKPOINT_FORMAT}-state`)
    throw new Error(`${source} is a training state (for resuming a run), not a model; use the weights file beside it, ${checkpointPaths(source.replace(/\.train\.safetensors$/, '')).weights}`);
  if (metadata.format !== CHECKPOINT_FORMAT)
    throw new Error(`${source} is a safetensors file but not a kdsr checkpoint (no kdsr metadata); official PyTorch checkpoints (.pth) can be converted with \`kdsr convert\``);
  const stage = Number(metadata.stage);
  if (stage !== 1 && stage !== 2 && stage !== 3) throw new Error(`${source}: bad stage '${metadata.stage}'`);
  return {
    role: metadata.role as ModelRole,
    preset: metadata.preset,
    config: JSON.parse(metadata.config) as KdsrConfig,
    stage,
    step: Number(metadata.step),
    ema: metadata.ema === 'true',
  };
}

export interface SaveWeightsOptions {
  /** More metadata (description, training record, results) beside what identifies the network. */
  metadata?: Record<string, string>;
  /** Store the weights as IEEE half precision (released models: half the size). */
  storeAs?: 'float16';
}

export function saveWeights(file: string, weights: Map<string, Tensor>, info: CheckpointInfo, options: SaveWeightsOptions = {}): void {
  saveSafetensors(file, weights, { ...options.metadata, ...encodeInfo(info) }, { storeAs: options.storeAs });
}

export function readCheckpointInfo(file: string): CheckpointInfo {
  return decodeInfo(readSafetensorsHeader(file).metadata, file);
}

export function loadWeights(file: string, device = 'cpu'): { weights: Map<string, Tensor>; info: CheckpointInfo } {
  if (!fs.existsSync(file)) throw new Error(`${file}: checkpoint not found`);
  const { tensors, metadata } = loadSafetensors(file, { device });
  try {
    return { weights: tensors, info: decodeInfo(metadata, file) };
  } catch (error) {
    for (const t of tensors.values()) t.dispose();
    throw error;
  }
}

/** Training state: tensors by name plus a JSON document. */
export interface TrainingState {
  step: number;
  tensors: Map<string, Tensor>;
  json: Record<string, unknown>;
}

export function saveTrainingState(file: string, state: TrainingState): void {
  saveSafetensors(file, state.tensors, { format: `${CHECKPOINT_FORMAT}-state`, step: String(state.step), state: JSON.stringify(state.json) });
}

export function loadTrainingState(file: string, device = 'cpu'): TrainingState {
  if (!fs.existsSync(file)) throw new Error(`${file}: training state not found (resuming needs the '.train.safetensors' file written beside the weights)`);
  const { tensors, metadata } = loadSafetensors(file, { device });
  if (metadata.format !== `${CHECKPOINT_FORMAT}-state`) {
    for (const t of tensors.values()) t.dispose();
    throw new Error(`${file}: not a kdsr training-state file`);
  }
  return { step: Number(metadata.step), tensors, json: JSON.parse(metadata.state) as Record<string, unknown> };
}
