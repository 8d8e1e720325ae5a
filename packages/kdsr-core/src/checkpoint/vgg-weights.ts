// The pretrained VGG19 of the perceptual loss cannot be bundled or downloaded here: the user supplies
// torchvision's file (vgg19-dcbb9e9d.pth, or a safetensors with the same keys). The block widths are
// read from the file (torchvision's are 64, 128, 256, 512, 512; tests use reduced ones), then every
// `features.N.*` key and shape is checked against the network they define; the classifier is ignored.
import * as fs from 'fs';
import { loadSafetensors } from '@kdsr/cuda';
import { Vgg19 } from '../models/vgg';
import { Initializer } from '../nn/init';
import type { WeightValue } from '../nn/module';
import { readTorchStateDict } from './torch-import';

export const VGG19_FILE = 'vgg19-dcbb9e9d.pth';
export const VGG19_URL = `https://download.pytorch.org/models/${VGG19_FILE}`;
/** The first conv of each block: its output channels are the block's width. */
const BLOCK_FIRST_CONVS = [0, 5, 10, 19, 28];

function readWeights(file: string): Map<string, WeightValue> {
  if (file.endsWith('.safetensors')) return new Map(loadSafetensors(file).tensors);
  return new Map(readTorchStateDict(file).tensors);
}

/** A frozen VGG19 with the weights of `file`, with one-line errors naming the file to get. */
export function loadVgg19(file: string, options: { device?: string } = {}): Vgg19 {
  const get = `get torchvision's ${VGG19_FILE} from ${VGG19_URL}`;
  if (!fs.existsSync(file)) throw new Error(`VGG19 weights not found at ${file}: download torchvision's ${VGG19_FILE} from ${VGG19_URL} and pass its path (e.g. --vgg ${VGG19_FILE})`);
  const features = new Map([...readWeights(file)].filter(([key]) => key.startsWith('features.')));
  const missing = BLOCK_FIRST_CONVS.map((n) => `features.${n}.weight`).filter((k) => features.get(k)?.shape.length !== 4);
  if (missing.length > 0) throw new Error(`${file} is not torchvision's VGG19: missing ${missing.join(', ')} (${get})`);
  const widths = BLOCK_FIRST_CONVS.map((n) => features.get(`features.${n}.weight`)!.shape[0]);
  const vgg = new Vgg19(widths, new Initializer({ device: options.device }));
  try {
    vgg.loadStateDict(features, { source: file });
  } catch (error) {
    vgg.dispose();
    throw new Error(`${(error as Error).message.replace(/ \(different preset or scale\?\)$/, '')} (${get})`);
  }
  return vgg;
}
