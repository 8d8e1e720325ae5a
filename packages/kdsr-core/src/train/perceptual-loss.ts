// BasicSR's PerceptualLoss as KDSR-GAN configures it: VGG19 features before ReLU at conv1_2, conv2_2,
// conv3_4, conv4_4, conv5_4 with weights 0.1, 0.1, 1, 1, 1, of ImageNet-normalised images, L1 (mean)
// per layer, no style term. The GT side is a constant and the VGG is frozen, so only the SR image
// gets a gradient.
import { keep, Tensor } from '@kdsr/cuda';
import * as F from '../autograd/functional';
import { noGrad } from '../autograd/graph';
import type { Vgg19 } from '../models/vgg';

/** torchvision module index of each layer and its weight. */
export const PERCEPTUAL_LAYERS: ReadonlyArray<{ name: string; index: number; weight: number }> = [
  { name: 'conv1_2', index: 2, weight: 0.1 },
  { name: 'conv2_2', index: 7, weight: 0.1 },
  { name: 'conv3_4', index: 16, weight: 1 },
  { name: 'conv4_4', index: 25, weight: 1 },
  { name: 'conv5_4', index: 34, weight: 1 },
];

export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

export interface PerceptualTerms {
  /** perceptualWeight * sum of weight * L1 over the layers, shape [1]. */
  loss: Tensor;
  /** The unweighted L1 of each layer, by name. */
  layers: Map<string, Tensor>;
}

export class PerceptualLoss {
  private readonly scale: Tensor;
  private readonly shift: Tensor;

  constructor(
    readonly vgg: Vgg19,
    readonly perceptualWeight = 1,
  ) {
    const { device, dtype } = vgg.parameters()[0].value;
    // (x - mean) / std as x * (1 / std) + (-mean / std), from the float32 constants (as torch stores them).
    const mean = IMAGENET_MEAN.map(Math.fround);
    const std = IMAGENET_STD.map(Math.fround);
    this.scale = keep(Tensor.fromArray(std.map((s) => 1 / s), [3], { device, dtype }));
    this.shift = keep(Tensor.fromArray(mean.map((m, c) => -m / std[c]), [3], { device, dtype }));
  }

  private features(x: Tensor): Map<number, Tensor> {
    return this.vgg.extract(F.channelAffine(x, this.scale, this.shift), PERCEPTUAL_LAYERS.map((l) => l.index));
  }

  forward(sr: Tensor, gt: Tensor): PerceptualTerms {
    const fsr = this.features(sr);
    const fgt = noGrad(() => this.features(gt));
    const layers = new Map<string, Tensor>();
    let loss: Tensor | null = null;
    for (const { name, index, weight } of PERCEPTUAL_LAYERS) {
      const l1 = F.l1Loss(fsr.get(index)!, fgt.get(index)!);
      layers.set(name, l1);
      const term = weight === 1 ? l1 : F.scale(l1, weight);
      loss = loss ? F.add(loss, term) : term;
    }
    return { loss: this.perceptualWeight === 1 ? loss! : F.scale(loss!, this.perceptualWeight), layers };
  }

  dispose(): void {
    this.scale.dispose();
    this.shift.dispose();
  }
}
