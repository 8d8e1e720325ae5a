// The models that ship inside @kdsr/core (its models/ folder): a user reaches them by name, or
// gets the default one, with no path and no download. Each file's metadata says what it is, how it
// was trained and what it measured (see tools/release-model.sh).
import * as fs from 'fs';
import * as path from 'path';
import { readSafetensorsHeader } from '@kdsr/cuda';
import { CheckpointInfo, readCheckpointInfo } from './checkpoint';

/** The model `kdsr upscale` / `loadKdsrModel()` use when none is named. */
export const DEFAULT_MODEL = 'kdsr-classic-x4';

export interface BundledModel {
  name: string;
  file: string;
  info: CheckpointInfo;
  /** What it is for, in a sentence. */
  description: string;
  /** How it was trained (data, degradation, sizes, updates, machine), as recorded at release. */
  training: Record<string, unknown>;
  /** What it measured at release: one row per test set and setting. */
  results: Array<Record<string, unknown>>;
}

/** @kdsr/core's models/ folder, found from this file whether it runs from src/ (tests) or dist/. */
export function bundledModelsDir(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === '@kdsr/core') return path.join(dir, 'models');
  }
  throw new Error(`@kdsr/core: package.json not found above ${__dirname}`);
}

const parseJson = <T>(text: string | undefined, fallback: T): T => (text ? (JSON.parse(text) as T) : fallback);

export function bundledModels(): BundledModel[] {
  const dir = bundledModelsDir();
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.safetensors'))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      const { metadata } = readSafetensorsHeader(file);
      return {
        name: f.slice(0, -'.safetensors'.length),
        file,
        info: readCheckpointInfo(file),
        description: metadata.description ?? '',
        training: parseJson(metadata.training, {}),
        results: parseJson(metadata.results, []),
      };
    });
}

/**
 * The checkpoint file a model argument names: the default bundled model when it is absent, a
 * bundled model's name (when no file of that name exists), or else the path as given.
 */
export function resolveModel(model?: string): string {
  const name = model ?? DEFAULT_MODEL;
  if (model !== undefined && fs.existsSync(model)) return model;
  const bundled = path.join(bundledModelsDir(), `${name}.safetensors`);
  if (fs.existsSync(bundled)) return bundled;
  if (model !== undefined) return model; // not bundled: let the loader say the file is missing
  throw new Error(`the bundled default model ${DEFAULT_MODEL} is missing from ${path.dirname(bundled)}; reinstall @kdsr/core or pass a checkpoint`);
}
