// The KDSR generator G(lr, D): mean shift, head conv, IDR-DCRB blocks with a long skip, sub-pixel
// upsampler, tail conv, mean shift back. Keys: G.sub_mean, G.head.0, G.body.0.body.{i},
// G.body.1, G.tail.0.{0,2}, G.tail.1, G.add_mean.
import type { Tensor } from '@kdsr/cuda';
import * as F from '../autograd/functional';
import { releaseIntermediate } from '../autograd/graph';
import { Initializer } from '../nn/init';
import { Conv2d, MeanShift, Sequential, Upsampler } from '../nn/layers';
import { Layer, Module } from '../nn/module';
import { KdsrConfig } from './config';
import { IdrGroup } from './idr';

export class Generator extends Module {
  readonly sub_mean: MeanShift;
  readonly head: Sequential<Conv2d>;
  readonly body: Sequential<Module>;
  readonly tail: Sequential<Module & Layer>;
  readonly add_mean: MeanShift;

  constructor(
    readonly config: KdsrConfig,
    init: Initializer,
  ) {
    super();
    const c = config.nFeats;
    this.sub_mean = new MeanShift(config.rgbMean, -1, init);
    this.head = new Sequential([new Conv2d(3, c, 3, init)]);
    this.body = new Sequential<Module>([new IdrGroup(c, config.nBlocks, init), new Conv2d(c, c, 3, init)]);
    this.tail = new Sequential<Module & Layer>([new Upsampler(config.scale, c, init), new Conv2d(c, 3, 3, init)]);
    this.add_mean = new MeanShift(config.rgbMean, 1, init);
  }

  /** The features after the long skip, before upsampling. */
  features(lr: Tensor, d: Tensor): Tensor {
    const shifted = this.sub_mean.forward(lr);
    const f = this.head.forward(shifted);
    releaseIntermediate(shifted);
    const group = this.body.at(0) as IdrGroup;
    const conv = this.body.at(1) as Conv2d;
    const blocks = group.forward(f, d);
    const branch = conv.forward(blocks);
    releaseIntermediate(blocks);
    const y = F.add(branch, f);
    releaseIntermediate(branch);
    releaseIntermediate(f);
    return y;
  }

  /** SR image (B, 3, s*H, s*W), not clamped. */
  forward(lr: Tensor, d: Tensor): Tensor {
    const features = this.features(lr, d);
    const upscaled = this.tail.forward(features);
    releaseIntermediate(features);
    const sr = this.add_mean.forward(upscaled);
    releaseIntermediate(upscaled);
    return sr;
  }
}
