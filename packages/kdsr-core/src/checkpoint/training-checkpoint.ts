// The checkpoint of a training run, the same for every stage. '<base>.train.safetensors' is the
// checkpoint: the trained weights ('model.*'), the rest of the state in named groups ('adam.*',
// 'ema.*', 'teacher.E.*', 'disc.*', ...) and, in its metadata, the stage, the update count and a
// JSON document (optimiser step counts, the data position). It is one file, written atomically, so
// a kill leaves either the previous complete checkpoint or the new one. Then '<base>.safetensors' is
// replaced by the same weights, for inference; a kill between the two writes leaves it behind, which
// reading reports (weightsFileStale) so that the next save brings it up to date. State files of
// earlier versions hold no 'model.*': their weights are read from the weights file, which must then
// be from the same update.
import { dispose, Tensor } from '@kdsr/cuda';
import { CheckpointInfo, checkpointPaths, loadTrainingState, loadWeights, readCheckpointInfo, saveTrainingState, saveWeights } from './checkpoint';

export type Stage = 1 | 2 | 3;

export interface CheckpointContents {
  step: number;
  stage: Stage;
  /** The trained network's weights, and what they are (the weights file's metadata). */
  weights: Map<string, Tensor>;
  info: CheckpointInfo;
  /** The other state tensors by group name; stored as '<group>.<key>'. */
  groups: Record<string, Map<string, Tensor>>;
  /** Step counts, options, the data position: anything JSON-serialisable. */
  json: Record<string, unknown>;
}

/** A checkpoint as read back. Its tensors live until the callback of readTrainingCheckpoint returns. */
export interface LoadedCheckpoint {
  step: number;
  stage: Stage;
  weights: Map<string, Tensor>;
  /** The tensors of one group, keys without the group prefix (empty if the checkpoint has none). */
  group(name: string): Map<string, Tensor>;
  json: Record<string, unknown>;
  /** The state file, and the file the weights came from (the same, or for earlier versions the weights file), for messages. */
  source: string;
  weightsSource: string;
  /** Whether '<base>.safetensors' holds other weights than the checkpoint (killed between the two writes). */
  weightsFileStale: boolean;
}

/** Writes '<base>.train.safetensors', then '<base>.safetensors'; returns the latter's path. */
export function writeTrainingCheckpoint(base: string, contents: CheckpointContents): string {
  const files = checkpointPaths(base);
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of contents.weights) tensors.set(`model.${k}`, t);
  for (const [group, members] of Object.entries(contents.groups)) for (const [k, t] of members) tensors.set(`${group}.${k}`, t);
  saveTrainingState(files.state, { step: contents.step, tensors, json: { stage: contents.stage, ...contents.json } });
  saveWeights(files.weights, contents.weights, contents.info);
  return files.weights;
}

/** Whether `file` is a readable weights file of `stage` written at update `step`. */
function weightsFileAt(file: string, stage: Stage, step: number): boolean {
  try {
    const info = readCheckpointInfo(file);
    return info.step === step && info.stage === stage;
  } catch {
    return false;
  }
}

/** Reads the checkpoint at `base` onto `device` and hands it to `use`; its tensors are disposed afterwards. */
export function readTrainingCheckpoint<T>(base: string, device: string, use: (checkpoint: LoadedCheckpoint) => T): T {
  const files = checkpointPaths(base);
  const state = loadTrainingState(files.state, device);
  const group = (name: string) =>
    new Map([...state.tensors].filter(([k]) => k.startsWith(`${name}.`)).map(([k, t]) => [k.slice(name.length + 1), t]));
  const own = group('model');
  const legacy = own.size === 0 ? loadWeights(files.weights, device) : null;
  try {
    if (legacy && legacy.info.step !== state.step) throw new Error(`${files.weights} is from update ${legacy.info.step} but ${files.state} from update ${state.step} (interrupted while saving?)`);
    const stage = (legacy ? legacy.info.stage : state.json.stage) as Stage;
    return use({
      step: state.step,
      stage,
      weights: legacy ? legacy.weights : own,
      group,
      json: state.json,
      source: files.state,
      weightsSource: legacy ? files.weights : files.state,
      weightsFileStale: legacy === null && !weightsFileAt(files.weights, stage, state.step),
    });
  } finally {
    dispose([...(legacy?.weights.values() ?? []), ...state.tensors.values()]);
  }
}
