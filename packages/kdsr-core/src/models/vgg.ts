// VGG19's convolutional part with torchvision's key layout (`vgg19().features`: features.N.weight /
// features.N.bias at the conv modules N = 0, 2, 5, ..., 34), frozen, as the feature extractor of the
// perceptual loss. Module N: conv at even positions inside a block, ReLU at N + 1, max-pools at 4, 9,
// 18, 27 (and 36, never needed). All convs 3x3, stride 1, padding 1, with bias.
import type { Tensor } from '@kdsr/cuda';
import * as F from '../autograd/functional';
import { defaultBound, Initializer } from '../nn/init';
import { Module } from '../nn/module';
import { Parameter } from '../nn/parameter';

/** torchvision's VGG19 widths per block; the convs per block are 2, 2, 4, 4, 4. */
export const VGG19_WIDTHS: readonly number[] = [64, 128, 256, 512, 512];
const CONVS_PER_BLOCK = [2, 2, 4, 4, 4];

/** A frozen 3x3 convolution with bias (never differentiated: the VGG weights are fixed). */
class VggConv extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;

  constructor(inChannels: number, outChannels: number, init: Initializer) {
    super();
    const bound = defaultBound(inChannels * 9);
    this.weight = new Parameter(init.uniform([outChannels, inChannels, 3, 3], bound), { trainable: false });
    this.bias = new Parameter(init.uniform([outChannels], bound), { trainable: false });
  }

  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight.value, this.bias.value);
  }
}

type Step = { kind: 'conv'; index: number; conv: VggConv } | { kind: 'pool'; index: number };

/** `features`: the convs under their torchvision module indices. */
class VggFeatures extends Module {
  readonly steps: readonly Step[];

  constructor(widths: readonly number[], init: Initializer) {
    super();
    const steps: Step[] = [];
    let index = 0;
    let channels = 3;
    CONVS_PER_BLOCK.forEach((count, block) => {
      for (let c = 0; c < count; c++) {
        steps.push({ kind: 'conv', index, conv: new VggConv(channels, widths[block], init) });
        channels = widths[block];
        index += 2; // the conv and its ReLU
      }
      steps.push({ kind: 'pool', index });
      index += 1;
    });
    this.steps = steps;
  }

  override namedChildren(): Array<[string, Module | Parameter]> {
    return this.steps.flatMap((s): Array<[string, Module]> => (s.kind === 'conv' ? [[String(s.index), s.conv]] : []));
  }
}

export class Vgg19 extends Module {
  readonly features: VggFeatures;

  /** widths: torchvision's VGG19_WIDTHS, or reduced ones for tests (the fixture divides them by 16). */
  constructor(
    readonly widths: readonly number[],
    init: Initializer,
  ) {
    super();
    if (widths.length !== 5) throw new Error(`Vgg19: need 5 block widths, got ${widths.length}`);
    this.features = new VggFeatures(widths, init);
  }

  /** The outputs before ReLU of the conv modules `layers` (torchvision indices), running only as deep as needed. */
  extract(x: Tensor, layers: readonly number[]): Map<number, Tensor> {
    const wanted = new Set(layers);
    for (const n of wanted)
      if (!this.features.steps.some((s) => s.kind === 'conv' && s.index === n)) throw new Error(`Vgg19: features.${n} is not a convolution`);
    const deepest = Math.max(...wanted);
    const out = new Map<number, Tensor>();
    let h = x;
    for (const step of this.features.steps) {
      if (step.index > deepest) break;
      if (step.kind === 'pool') {
        h = F.maxPool2x2(h);
        continue;
      }
      const pre = step.conv.forward(h);
      if (wanted.has(step.index)) out.set(step.index, pre);
      h = F.relu(pre);
    }
    return out;
  }
}
