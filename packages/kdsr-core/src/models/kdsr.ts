// The two KDSR networks. The teacher KDSR_T sees the LR image and the pixel-unshuffled HR image
// (3 + 3s² channels) and is trained in stage 1; the student KDSR_S sees the LR image only and is
// trained in stage 2 by distilling the teacher's D'. Keys: G.*, E.* (teacher) / E_st.* (student).
import type { Tensor } from '@kdsr/cuda';
import * as F from '../autograd/functional';
import { releaseIntermediate } from '../autograd/graph';
import { Initializer, InitializerOptions } from '../nn/init';
import { Module } from '../nn/module';
import { KdsrConfig } from './config';
import { Encoder, Idr } from './encoder';
import { Generator } from './generator';

export interface KdsrOutput extends Idr {
  /** SR image (B, 3, sH, sW). */
  sr: Tensor;
}

function checkPair(config: KdsrConfig, lr: Tensor, hr: Tensor): void {
  const [b, c, h, w] = lr.shape;
  const s = config.scale;
  if (lr.rank !== 4 || c !== 3) throw new Error(`KDSR: lr must be (B, 3, H, W), got [${lr.shape}]`);
  if (hr.rank !== 4 || hr.shape[0] !== b || hr.shape[1] !== 3 || hr.shape[2] !== s * h || hr.shape[3] !== s * w)
    throw new Error(`KDSR: hr must be (${b}, 3, ${s * h}, ${s * w}) for lr [${lr.shape}] at x${s}, got [${hr.shape}]`);
}

export class KdsrTeacher extends Module {
  readonly G: Generator;
  readonly E: Encoder;

  constructor(
    readonly config: KdsrConfig,
    init: Initializer | InitializerOptions = {},
  ) {
    super();
    const initializer = init instanceof Initializer ? init : new Initializer(init);
    this.G = new Generator(config, initializer);
    this.E = new Encoder(3 + 3 * config.scale * config.scale, config.nFeats, config.nResblocks, initializer);
  }

  /** The encoder's input: LR channels first, then pixel_unshuffle(hr, s). */
  encoderInput(lr: Tensor, hr: Tensor): Tensor {
    checkPair(this.config, lr, hr);
    const unshuffled = F.pixelUnshuffle(hr, this.config.scale);
    const input = F.concatChannels(lr, unshuffled);
    releaseIntermediate(unshuffled);
    return input;
  }

  forward(lr: Tensor, hr: Tensor): KdsrOutput {
    const input = this.encoderInput(lr, hr);
    const { idr, idrKd } = this.E.forward(input);
    releaseIntermediate(input);
    return { sr: this.G.forward(lr, idr), idr, idrKd };
  }
}

export class KdsrStudent extends Module {
  readonly G: Generator;
  readonly E_st: Encoder;

  constructor(
    readonly config: KdsrConfig,
    init: Initializer | InitializerOptions = {},
  ) {
    super();
    const initializer = init instanceof Initializer ? init : new Initializer(init);
    this.G = new Generator(config, initializer);
    this.E_st = new Encoder(3, config.nFeats, config.nResblocks, initializer);
  }

  forward(lr: Tensor): KdsrOutput {
    if (lr.rank !== 4 || lr.shape[1] !== 3) throw new Error(`KDSR: lr must be (B, 3, H, W), got [${lr.shape}]`);
    const { idr, idrKd } = this.E_st.forward(lr);
    return { sr: this.G.forward(lr, idr), idr, idrKd };
  }
}

/**
 * Stage 2's starting point: a student whose generator is a copy of the teacher's and whose E_st is
 * fresh; on the teacher's device and in its dtype unless init says otherwise.
 */
export function studentFromTeacher(teacher: KdsrTeacher, init: Initializer | InitializerOptions = {}): KdsrStudent {
  const like = teacher.G.head.at(0).weight.value;
  const student = new KdsrStudent(teacher.config, init instanceof Initializer ? init : { device: like.device, dtype: like.dtype, ...init });
  student.G.loadStateDict(teacher.G.stateDict(), { source: 'teacher generator' });
  return student;
}
