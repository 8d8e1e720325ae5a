// KD-IDE, the implicit degradation representation encoder. Keys: E.{0..k+5} (conv, LeakyReLU,
// residual blocks, three convs widening to 4C), mlp.{0,2}, compress.0. It returns D (length C,
// used by the generator) and D' (length 4C, the distilled representation).
import type { Tensor } from '@kdsr/cuda';
import * as F from '../autograd/functional';
import { releaseIntermediate } from '../autograd/graph';
import { Initializer } from '../nn/init';
import { Conv2d, LeakyReLU, Linear, ResBlock, Sequential } from '../nn/layers';
import { Layer, Module } from '../nn/module';

export interface Idr {
  /** D: (B, C). */
  idr: Tensor;
  /** D': (B, 4C). */
  idrKd: Tensor;
}

export class Encoder extends Module {
  readonly E: Sequential<Module & Layer>;
  readonly mlp: Sequential<Module & Layer>;
  readonly compress: Sequential<Module & Layer>;

  constructor(
    readonly inChannels: number,
    readonly nFeats: number,
    readonly nResblocks: number,
    init: Initializer,
  ) {
    super();
    const c = nFeats;
    this.E = new Sequential<Module & Layer>([
      new Conv2d(inChannels, c, 3, init),
      new LeakyReLU(0.1),
      ...Array.from({ length: nResblocks }, () => new ResBlock(c, init)),
      new Conv2d(c, 2 * c, 3, init),
      new LeakyReLU(0.1),
      new Conv2d(2 * c, 2 * c, 3, init),
      new LeakyReLU(0.1),
      new Conv2d(2 * c, 4 * c, 3, init),
      new LeakyReLU(0.1),
    ]);
    this.mlp = new Sequential<Module & Layer>([new Linear(4 * c, 4 * c, init), new LeakyReLU(0.1), new Linear(4 * c, 4 * c, init), new LeakyReLU(0.1)]);
    this.compress = new Sequential<Module & Layer>([new Linear(4 * c, c, init), new LeakyReLU(0.1)]);
  }

  /** Number of 3x3 convolutions before pooling: the receptive radius of a pooled pixel. */
  get receptiveRadius(): number {
    return 4 + 2 * this.nResblocks;
  }

  /** The 4C feature maps before global pooling. */
  featureMaps(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.inChannels) throw new Error(`Encoder: input must be (B, ${this.inChannels}, H, W), got [${x.shape}]`);
    return this.E.forward(x);
  }

  /** D' and D from pooled features (B, 4C). */
  fromPooled(pooled: Tensor): Idr {
    const idrKd = this.mlp.forward(pooled);
    return { idr: this.compress.forward(idrKd), idrKd };
  }

  forward(x: Tensor): Idr {
    const maps = this.featureMaps(x);
    const pooled = F.globalAvgPool(maps);
    releaseIntermediate(maps);
    const idr = this.fromPooled(pooled);
    releaseIntermediate(pooled);
    return idr;
  }
}
