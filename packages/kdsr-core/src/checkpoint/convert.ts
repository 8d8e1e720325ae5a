// From weights to models: infer the network configuration from a state dict's key names and
// shapes, convert official PyTorch checkpoints to our safetensors, and build the model a
// checkpoint describes.
import * as fs from 'fs';
import { readSafetensorsHeader, Tensor } from '@kdsr/cuda';
import { DEFAULT_RGB_MEAN, KdsrConfig, PRESETS, PresetName } from '../models/config';
import { KdsrStudent, KdsrTeacher } from '../models/kdsr';
import { CheckpointInfo, decodeInfo, loadWeights, ModelRole, saveWeights } from './checkpoint';
import { resolveModel } from './bundled';
import { HostTensor, readTorchStateDict } from './torch-import';

type Shapes = Map<string, readonly number[]>;

/** Role and sizes of the network a state dict belongs to (teacher: E.*, student: E_st.*). */
export function inferConfig(shapes: Shapes, source = 'state dict'): { role: ModelRole; config: KdsrConfig; preset: string } {
  const need = (key: string): readonly number[] => {
    const shape = shapes.get(key);
    if (!shape) throw new Error(`${source}: no '${key}'; not a KDSR state dict?`);
    return shape;
  };
  const role: ModelRole = shapes.has('E_st.E.0.weight') ? 'student' : 'teacher';
  const enc = role === 'student' ? 'E_st' : 'E';
  const nFeats = need('G.head.0.weight')[0];
  let nBlocks = 0;
  while (shapes.has(`G.body.0.body.${nBlocks}.conv1.weight`)) nBlocks++;
  let nResblocks = 0;
  while (shapes.has(`${enc}.E.${2 + nResblocks}.body.0.weight`)) nResblocks++;
  let stages = 0;
  while (shapes.has(`G.tail.0.${2 * stages}.weight`)) stages++;
  const firstStage = need('G.tail.0.0.weight')[0];
  const scale = firstStage === 9 * nFeats ? 3 : 2 ** stages;
  if (role === 'teacher' && need('E.E.0.weight')[1] !== 3 + 3 * scale * scale)
    throw new Error(`${source}: E.E.0.weight has ${need('E.E.0.weight')[1]} input channels, expected ${3 + 3 * scale * scale} for x${scale}`);
  const config: KdsrConfig = { nFeats, nBlocks, nResblocks, scale, rgbMean: DEFAULT_RGB_MEAN };
  const preset = (Object.keys(PRESETS) as PresetName[]).find((p) => PRESETS[p].nFeats === nFeats && PRESETS[p].nBlocks === nBlocks && PRESETS[p].nResblocks === nResblocks) ?? 'custom';
  return { role, config, preset };
}

/** inferConfig for host tensors; the RGB mean is read from the checkpoint's frozen G.add_mean bias. */
function configFromTensors(tensors: Map<string, HostTensor>, source: string): { role: ModelRole; config: KdsrConfig; preset: string } {
  const inferred = inferConfig(new Map([...tensors].map(([k, t]) => [k, t.shape])), source);
  const addMean = tensors.get('G.add_mean.bias');
  if (addMean) inferred.config.rgbMean = [addMean.data[0], addMean.data[1], addMean.data[2]];
  return inferred;
}

function buildModel(role: ModelRole, config: KdsrConfig, device: string): KdsrTeacher | KdsrStudent {
  return role === 'teacher' ? new KdsrTeacher(config, { device }) : new KdsrStudent(config, { device });
}

/**
 * Converts an official checkpoint (.pt / .pth) to a kdsr safetensors file with the same keys;
 * float16 weights are widened to float32. Returns what was written.
 */
export function importTorchCheckpoint(input: string, output: string): CheckpointInfo & { entry: string } {
  const { tensors: host, choice } = readTorchStateDict(input);
  const { role, config, preset } = configFromTensors(host, input);
  const model = buildModel(role, config, 'cpu');
  try {
    model.loadStateDict(host, { source: input });
    const info: CheckpointInfo = { role, preset, config, stage: role === 'teacher' ? 1 : 2, step: 0 };
    saveWeights(output, model.stateDict(), info);
    return { ...info, entry: choice.entry };
  } finally {
    model.dispose();
  }
}

/**
 * The network a checkpoint holds, with its weights: our safetensors, a .pt / .pth file, or a
 * bundled model by name; without an argument, the bundled default model.
 */
export function loadKdsrModel(checkpoint?: string, options: { device?: string } = {}): { model: KdsrTeacher | KdsrStudent; info: CheckpointInfo } {
  const file = resolveModel(checkpoint);
  const device = options.device ?? 'cpu';
  if (!fs.existsSync(file)) throw new Error(`${file}: checkpoint not found`);
  if (fs.statSync(file).isDirectory()) throw new Error(`${file} is a folder: give a checkpoint file (a kdsr .safetensors, or an official KDSR .pth)`);
  if (/\.(pt|pth)$/i.test(file)) {
    const { tensors } = readTorchStateDict(file);
    const { role, config, preset } = configFromTensors(tensors, file);
    const model = buildModel(role, config, device);
    model.loadStateDict(tensors, { source: file });
    return { model, info: { role, preset, config, stage: role === 'teacher' ? 1 : 2, step: 0 } };
  }
  let header: ReturnType<typeof readSafetensorsHeader>;
  try {
    header = readSafetensorsHeader(file);
  } catch {
    throw new Error(`${file} is not a model checkpoint: expected a kdsr .safetensors file (from kdsr train or kdsr convert) or an official KDSR .pth`);
  }
  const info = decodeInfo(header.metadata, file);
  const model = buildModel(info.role, info.config, device);
  const { weights } = loadWeights(file, device);
  try {
    model.loadStateDict(weights as Map<string, Tensor>, { source: file });
  } finally {
    for (const t of weights.values()) t.dispose();
  }
  return { model, info };
}
