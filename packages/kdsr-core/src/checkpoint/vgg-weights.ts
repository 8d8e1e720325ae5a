// The pretrained VGG19 of the perceptual loss cannot be bundled or downloaded here: the user supplies
// torchvision's file (vgg19-dcbb9e9d.pth, or a safetensors with the same keys). Every `features.N.*`
// key and shape is checked against the model; the classifier's keys are ignored.
import * as fs from 'fs';
import { loadSafetensors } from '@kdsr/cuda';
import type { Vgg19 } from '../models/vgg';
import type { WeightValue } from '../nn/module';
import { readTorchStateDict } from './torch-import';

export const VGG19_FILE = 'vgg19-dcbb9e9d.pth';
export const VGG19_URL = `https://download.pytorch.org/models/${VGG19_FILE}`;

function readWeights(file: string): Map<string, WeightValue> {
  if (file.endsWith('.safetensors')) return new Map(loadSafetensors(file).tensors);
  return new Map(readTorchStateDict(file).tensors);
}

/** Loads torchvision VGG19 weights from `file` into vgg (features only), with one-line errors naming the file to get. */
export function loadVgg19Weights(vgg: Vgg19, file: string): void {
  if (!fs.existsSync(file))
    throw new Error(`VGG19 weights not found at ${file}: download torchvision's ${VGG19_FILE} from ${VGG19_URL} and pass its path (e.g. --vgg ${VGG19_FILE})`);
  const all = readWeights(file);
  const features = new Map([...all].filter(([key]) => key.startsWith('features.')));
  const expected = vgg.stateDict();
  const missing = [...expected.keys()].filter((k) => !features.has(k));
  if (missing.length > 0)
    throw new Error(`${file} is not torchvision's VGG19: missing ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ', ...' : ''} (get ${VGG19_FILE} from ${VGG19_URL})`);
  vgg.loadStateDict(features, { source: file });
}
