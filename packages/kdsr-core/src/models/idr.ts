// The generator's IDR blocks. IDR-DDC predicts one 3x3 depthwise kernel per sample and channel
// from the degradation representation D (an MLP without biases) and applies it; IDR-DCRB is the
// residual block h + conv1(leaky_relu(DDC(h, D))); IdrGroup chains the blocks (key `body.{i}`).
import type { Tensor } from '@kdsr/cuda';
import * as F from '../autograd/functional';
import { releaseIntermediate } from '../autograd/graph';
import { Initializer } from '../nn/init';
import { Conv2d, LeakyReLU, Linear, Sequential } from '../nn/layers';
import { Layer, Module } from '../nn/module';

export class IdrDdc extends Module {
  /** kernel.0: Linear(C, C), kernel.2: Linear(C, 9C), both without bias. */
  readonly kernel: Sequential<Module & Layer>;

  constructor(
    readonly channels: number,
    init: Initializer,
    readonly kernelSize = 3,
  ) {
    super();
    this.kernel = new Sequential<Module & Layer>([
      new Linear(channels, channels, init, { bias: false }),
      new LeakyReLU(0.1),
      new Linear(channels, channels * kernelSize * kernelSize, init, { bias: false }),
    ]);
  }

  /** y[b,c] = h[b,c] (*) k[b,c] (zero padding); with negativeSlope, LeakyReLU is fused on y. */
  forward(h: Tensor, d: Tensor, negativeSlope?: number): Tensor {
    const [batch] = h.shape;
    const flat = this.kernel.forward(d);
    const k = F.reshape(flat, [batch, this.channels, this.kernelSize, this.kernelSize]);
    const y = F.dynDwconv(h, k, { padding: 'zero', negativeSlope });
    releaseIntermediate(k);
    releaseIntermediate(flat);
    return y;
  }
}

/** The LeakyReLU slope between IDR-DDC and conv1 in every IDR-DCRB. */
export const IDR_NEGATIVE_SLOPE = 0.1;

export class IdrDcrb extends Module {
  readonly da_conv1: IdrDdc;
  readonly conv1: Conv2d;

  constructor(channels: number, init: Initializer) {
    super();
    this.da_conv1 = new IdrDdc(channels, init);
    this.conv1 = new Conv2d(channels, channels, 3, init);
  }

  forward(h: Tensor, d: Tensor): Tensor {
    // The LeakyReLU between the dynamic conv and conv1 is fused into the dynamic conv kernel.
    const a = this.da_conv1.forward(h, d, IDR_NEGATIVE_SLOPE);
    const branch = this.conv1.forward(a);
    releaseIntermediate(a);
    const y = F.add(h, branch);
    releaseIntermediate(branch);
    return y;
  }
}

export class IdrGroup extends Module {
  readonly body: Sequential<IdrDcrb>;

  constructor(channels: number, blocks: number, init: Initializer) {
    super();
    this.body = new Sequential(Array.from({ length: blocks }, () => new IdrDcrb(channels, init)));
  }

  forward(h: Tensor, d: Tensor): Tensor {
    let x = h;
    for (const block of this.body.layers) {
      const next = block.forward(x, d);
      if (x !== h) releaseIntermediate(x);
      x = next;
    }
    return x;
  }
}
