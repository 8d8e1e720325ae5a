// Released weights from a training checkpoint: the raw or the EMA weights, optionally as float16,
// with metadata that says what the file is (the network's identity is always written).
import { dispose, Tensor } from '@kdsr/cuda';
import { checkpointPaths, CheckpointInfo, loadTrainingState, loadWeights, saveWeights } from './checkpoint';

export interface ExportOptions {
  /** Export the moving average kept by a run trained with EMA (from '<checkpoint>.train.safetensors'). */
  ema?: boolean;
  storeAs?: 'float16';
  /** Description, training record, results: stored as the file's metadata. */
  metadata?: Record<string, string>;
}

export function exportModel(checkpoint: string, output: string, options: ExportOptions = {}): CheckpointInfo {
  const { weights, info } = loadWeights(checkpoint);
  const released = new Map(weights);
  let state: Map<string, Tensor> | null = null;
  try {
    if (options.ema) {
      const stateFile = checkpointPaths(checkpoint).state;
      state = loadTrainingState(stateFile).tensors;
      const averaged = [...state].filter(([k]) => k.startsWith('ema.'));
      if (averaged.length === 0) throw new Error(`${stateFile} holds no EMA weights: that run was trained without --ema; export without --ema`);
      for (const [k, t] of averaged) {
        const key = k.slice('ema.'.length);
        if (!weights.has(key)) throw new Error(`${stateFile}: EMA weight ${key} is not in ${checkpoint}`);
        released.set(key, t);
      }
    }
    // Re-exporting a released file (to add metadata) keeps what it was.
    const exported: CheckpointInfo = { ...info, ema: (options.ema ?? false) || (info.ema ?? false) };
    saveWeights(output, released, exported, { metadata: options.metadata, storeAs: options.storeAs });
    return exported;
  } finally {
    dispose([...weights.values(), ...(state?.values() ?? [])]);
  }
}
