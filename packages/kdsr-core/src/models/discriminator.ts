// BasicSR's UNetDiscriminatorSN (Real-ESRGAN, KDSR-GAN): a U-Net of convolutions with spectral
// normalisation whose output is a per-pixel real/fake logit map (B,1,H,W). Keys are BasicSR's:
// conv0.{weight,bias}, convN.{weight_orig,weight_u,weight_v} for N = 1..8 (torch.nn.utils.spectral_norm),
// conv9.{weight,bias}, so an official `net_d` state dict loads 1:1. H and W must be multiples of 8.
import { Tensor } from '@kdsr/cuda';
import * as F from '../autograd/functional';
import { defaultBound, Initializer } from '../nn/init';
import { Conv2d } from '../nn/layers';
import { Module } from '../nn/module';
import { Parameter } from '../nn/parameter';

/** LeakyReLU slope of the discriminator (the generator and encoders use 0.1). */
export const DISCRIMINATOR_SLOPE = 0.2;

export interface DiscriminatorOptions {
  /** Power iteration in every spectral norm (training) or the stored u, v (eval). */
  training: boolean;
  /**
   * The parameters get no gradient (the generator step): they are read through views that are not
   * graph leaves, so backward() reaches the input only.
   */
  frozen?: boolean;
}

/** A unit vector drawn from the initializer's stream (spectral_norm starts u, v at normalize(randn); any direction converges). */
function unitVector(init: Initializer, n: number): Tensor {
  const raw = init.uniform([n], 1);
  const data = raw.toArray();
  raw.dispose();
  let norm = 0;
  for (const x of data) norm += x * x;
  norm = Math.sqrt(norm);
  return init.constant(Array.from(data, (x) => x / norm), [n]);
}

/** nn.Conv2d without bias wrapped in spectral_norm: keys weight_orig, weight_u, weight_v. */
export class SNConv2d extends Module {
  readonly weight_orig: Parameter;
  /** Power-iteration state: saved and loaded, updated by every training-mode forward, never optimised. */
  readonly weight_u: Parameter;
  readonly weight_v: Parameter;

  constructor(
    inChannels: number,
    outChannels: number,
    readonly kernelSize: 3 | 4,
    init: Initializer,
  ) {
    super();
    const fanIn = inChannels * kernelSize * kernelSize;
    this.weight_orig = new Parameter(init.uniform([outChannels, inChannels, kernelSize, kernelSize], defaultBound(fanIn)));
    this.weight_u = new Parameter(unitVector(init, outChannels), { trainable: false });
    this.weight_v = new Parameter(unitVector(init, fanIn), { trainable: false });
  }

  /** 4x4 kernels: stride 2, padding 1 (halves the size); 3x3: stride 1, padding 1. */
  forward(x: Tensor, options: DiscriminatorOptions): Tensor {
    const w = options.frozen ? detached(this.weight_orig) : this.weight_orig.value;
    const sn = F.spectralNorm(w, this.weight_u.value, this.weight_v.value, options.training);
    // The graph keeps sn.u, sn.v (freed with the caller's tidy scope); the state gets copies, so a
    // later forward replacing the state cannot free what an earlier graph still needs.
    if (options.training) {
      this.weight_u.replace(sn.u.to(sn.u.device));
      this.weight_v.replace(sn.v.to(sn.v.device));
    }
    sn.sigma.dispose();
    return F.conv2d(x, sn.weight, null, this.kernelSize === 4 ? { stride: 2, padding: 1 } : { padding: 1 });
  }
}

/** The parameter's value as a view that is not a graph leaf (no gradient reaches the parameter). */
function detached(p: Parameter): Tensor {
  return p.value.reshape(p.shape);
}

export class UNetDiscriminatorSN extends Module {
  readonly conv0: Conv2d;
  readonly conv1: SNConv2d;
  readonly conv2: SNConv2d;
  readonly conv3: SNConv2d;
  readonly conv4: SNConv2d;
  readonly conv5: SNConv2d;
  readonly conv6: SNConv2d;
  readonly conv7: SNConv2d;
  readonly conv8: SNConv2d;
  readonly conv9: Conv2d;

  /** BasicSR's UNetDiscriminatorSN(num_in_ch, num_feat = 64, skip_connection = True). */
  constructor(
    readonly numInCh: number,
    readonly numFeat: number,
    init: Initializer,
  ) {
    super();
    const nf = numFeat;
    this.conv0 = new Conv2d(numInCh, nf, 3, init);
    this.conv1 = new SNConv2d(nf, 2 * nf, 4, init);
    this.conv2 = new SNConv2d(2 * nf, 4 * nf, 4, init);
    this.conv3 = new SNConv2d(4 * nf, 8 * nf, 4, init);
    this.conv4 = new SNConv2d(8 * nf, 4 * nf, 3, init);
    this.conv5 = new SNConv2d(4 * nf, 2 * nf, 3, init);
    this.conv6 = new SNConv2d(2 * nf, nf, 3, init);
    this.conv7 = new SNConv2d(nf, nf, 3, init);
    this.conv8 = new SNConv2d(nf, nf, 3, init);
    this.conv9 = new Conv2d(nf, 1, 3, init);
  }

  /** Logits (B,1,H,W) for images (B,numInCh,H,W), H and W multiples of 8. */
  forward(x: Tensor, options: DiscriminatorOptions): Tensor {
    const [, , h, w] = x.shape;
    if (h % 8 !== 0 || w % 8 !== 0) throw new Error(`UNetDiscriminatorSN: height and width must be multiples of 8, got ${h}x${w} (crop the patches)`);
    const lrelu = (t: Tensor) => F.leakyRelu(t, DISCRIMINATOR_SLOPE);
    const plain = (conv: Conv2d, t: Tensor) =>
      options.frozen ? F.conv2d(t, detached(conv.weight), detached(conv.bias!)) : conv.forward(t);
    const x0 = lrelu(plain(this.conv0, x));
    const x1 = lrelu(this.conv1.forward(x0, options));
    const x2 = lrelu(this.conv2.forward(x1, options));
    const x3 = lrelu(this.conv3.forward(x2, options));
    // Decoder: the skip is added after the activation.
    const x4 = F.add(lrelu(this.conv4.forward(F.upsampleBilinear2x(x3), options)), x2);
    const x5 = F.add(lrelu(this.conv5.forward(F.upsampleBilinear2x(x4), options)), x1);
    const x6 = F.add(lrelu(this.conv6.forward(F.upsampleBilinear2x(x5), options)), x0);
    const o = lrelu(this.conv8.forward(lrelu(this.conv7.forward(x6, options)), options));
    return plain(this.conv9, o);
  }
}
