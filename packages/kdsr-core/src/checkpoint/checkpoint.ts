// Checkpoints. Weights: one safetensors file with the original PyTorch key names (so the official
// tools read it after a plain conversion) and metadata saying what it is. Training state: a sibling
// '<name>.train.safetensors' holding the optimiser moments, EMA weights, the stage-2 teacher's
// encoder and, in the metadata, step counts and the data source's position. Both are written
// atomically (temporary file + rename); the state file first, and both carry the step, so a kill
// between the two writes is detected on resume instead of silently mixing steps.
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

/** '<base>.safetensors' and '<base>.train.safetensors' for a base path given with or without the extension. */
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

function decodeInfo(metadata: Record<string, string>, source: string): CheckpointInfo {
  if (metadata.format !== CHECKPOINT_FORMAT) throw new Error(`${source}: not a kdsr checkpoint (metadata format '${metadata.format ?? ''}'); PyTorch .pth files are imported with importTorchCheckpoint()`);
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
