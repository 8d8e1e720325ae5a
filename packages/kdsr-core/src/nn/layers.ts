// The basic layers: Conv2d, Linear, LeakyReLU, PixelShuffle, Sequential, MeanShift, ResBlock.
// Attribute names are PyTorch's (weight, bias, body) so that parameter paths are its keys.
import type { Tensor } from '@kdsr/cuda';
import * as F from '../autograd/functional';
import { releaseIntermediate } from '../autograd/graph';
import { defaultBound, Initializer } from './init';
import { Layer, Module } from './module';
import { Parameter } from './parameter';

/** k x k convolution, stride 1, zero padding k//2 (PyTorch nn.Conv2d(cin, cout, k, padding=k//2)). */
export class Conv2d extends Module implements Layer {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(inChannels: number, outChannels: number, kernelSize: number, init: Initializer, options: { bias?: boolean } = {}) {
    super();
    const fanIn = inChannels * kernelSize * kernelSize;
    this.weight = new Parameter(init.uniform([outChannels, inChannels, kernelSize, kernelSize], defaultBound(fanIn)));
    this.bias = options.bias === false ? null : new Parameter(init.uniform([outChannels], 1 / Math.sqrt(fanIn)));
  }

  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight.value, this.bias?.value ?? null);
  }
}

/** y = x W^T + b (PyTorch nn.Linear). */
export class Linear extends Module implements Layer {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, init: Initializer, options: { bias?: boolean } = {}) {
    super();
    this.weight = new Parameter(init.uniform([outFeatures, inFeatures], defaultBound(inFeatures)));
    this.bias = options.bias === false ? null : new Parameter(init.uniform([outFeatures], 1 / Math.sqrt(inFeatures)));
  }

  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight.value, this.bias?.value ?? null);
  }
}

export class LeakyReLU extends Module implements Layer {
  constructor(readonly negativeSlope = 0.1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return F.leakyRelu(x, this.negativeSlope);
  }
}

export class PixelShuffle extends Module implements Layer {
  constructor(readonly factor: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    return F.pixelShuffle(x, this.factor);
  }
}

/** An ordered container whose children are named by their index (PyTorch nn.Sequential). */
export class Sequential<T extends Module = Module> extends Module {
  readonly layers: readonly T[];

  constructor(layers: readonly T[]) {
    super();
    this.layers = layers;
  }

  override namedChildren(): Array<[string, Module | Parameter]> {
    return this.layers.map((layer, i) => [String(i), layer]);
  }

  at(i: number): T {
    return this.layers[i];
  }

  get length(): number {
    return this.layers.length;
  }

  forward(this: Sequential<Module & Layer>, x: Tensor): Tensor {
    let h = x;
    for (const layer of this.layers) {
      const next = layer.forward(h);
      if (h !== x && next !== h) releaseIntermediate(h);
      h = next;
    }
    return h;
  }
}

/**
 * Adds sign * mean per RGB channel as a frozen 1x1 convolution with identity weight (EDSR's
 * MeanShift, rgb_std = 1): keys `weight` (3,3,1,1) and `bias` (3), saved but never trained.
 */
export class MeanShift extends Module implements Layer {
  readonly weight: Parameter;
  readonly bias: Parameter;

  constructor(rgbMean: readonly number[], sign: 1 | -1, init: Initializer) {
    super();
    const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    this.weight = new Parameter(init.constant(identity, [3, 3, 1, 1]), { trainable: false });
    this.bias = new Parameter(init.constant(rgbMean.map((m) => sign * m), [3]), { trainable: false });
  }

  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight.value, this.bias.value);
  }
}

/** x + conv(leaky_relu(conv(x))) with keys body.0 and body.2 (EDSR's ResBlock, res_scale 1). */
export class ResBlock extends Module implements Layer {
  readonly body: Sequential<Module & Layer>;

  constructor(channels: number, init: Initializer, negativeSlope = 0.1) {
    super();
    this.body = new Sequential<Module & Layer>([new Conv2d(channels, channels, 3, init), new LeakyReLU(negativeSlope), new Conv2d(channels, channels, 3, init)]);
  }

  forward(x: Tensor): Tensor {
    const branch = this.body.forward(x);
    const y = F.add(x, branch);
    releaseIntermediate(branch);
    return y;
  }
}

/** Sub-pixel upsampling: log2(s) stages of conv C -> 4C + pixel_shuffle(2) for s = 2, 4, 8; one stage C -> 9C + pixel_shuffle(3) for s = 3. */
export class Upsampler extends Sequential<Module & Layer> {
  constructor(scale: number, channels: number, init: Initializer) {
    super(Upsampler.stages(scale, channels, init));
  }

  private static stages(scale: number, channels: number, init: Initializer): Array<Module & Layer> {
    if (scale === 3) return [new Conv2d(channels, 9 * channels, 3, init), new PixelShuffle(3)];
    if (Number.isInteger(Math.log2(scale)) && scale >= 2) {
      const layers: Array<Module & Layer> = [];
      for (let s = scale; s > 1; s /= 2) layers.push(new Conv2d(channels, 4 * channels, 3, init), new PixelShuffle(2));
      return layers;
    }
    throw new Error(`Upsampler: scale must be 2, 3, 4 or 8, got ${scale}`);
  }
}
