// Adam through the engine's fused adam_update kernel (one launch per group of parameters). Like
// torch.optim.Adam, a parameter without a gradient is skipped and keeps its own step count, so
// parameters that sit out a phase (the generator during KD-only warm-up) start their bias
// correction when they first get a gradient.
import { adamUpdate, keep, Tensor } from '@kdsr/cuda';
import type { AdamOptions as AdamStepOptions } from '@kdsr/cuda';
import { type Parameter, writeConverted } from '../nn/parameter';

/** The engine's adamUpdate options (lr, betas, eps, weightDecay, decoupled for AdamW) less the step, which is counted per parameter. */
export type AdamOptions = Omit<AdamStepOptions, 'step'>;

/** β of the classic-degradation KDSR models (PyTorch's defaults). */
export const ADAM_BETAS_CLASSIC = { beta1: 0.9, beta2: 0.999 } as const;
/** β of KDSR-GAN (BasicSR's Real-ESRGAN recipe). */
export const ADAM_BETAS_GAN = { beta1: 0.9, beta2: 0.99 } as const;

interface Slot {
  name: string;
  param: Parameter;
  expAvg: Tensor;
  expAvgSq: Tensor;
  step: number;
}

function zerosLike(t: Tensor): Tensor {
  const data = t.dtype === 'float64' ? new Float64Array(t.size) : new Float32Array(t.size);
  return keep(Tensor.fromArray(data, t.shape, { device: t.device, dtype: t.dtype }));
}

export class Adam {
  readonly options: Required<AdamOptions>;
  private readonly slots: Slot[];

  constructor(params: ReadonlyArray<[string, Parameter]>, options: AdamOptions) {
    this.options = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, ...options };
    const { lr, beta1, beta2, eps } = this.options;
    if (!(lr > 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps > 0))
      throw new Error(`Adam: need lr > 0, 0 <= beta1, beta2 < 1, eps > 0; got lr ${lr}, betas ${beta1}/${beta2}, eps ${eps}`);
    this.slots = params.filter(([, p]) => p.trainable).map(([name, param]) => ({ name, param, expAvg: zerosLike(param.value), expAvgSq: zerosLike(param.value), step: 0 }));
  }

  get parameterNames(): string[] {
    return this.slots.map((s) => s.name);
  }

  /** One update of every parameter that has a gradient, with learning rate lr (default options.lr). */
  step(lr = this.options.lr): void {
    const groups = new Map<number, Slot[]>();
    for (const slot of this.slots) {
      if (!slot.param.grad) continue;
      slot.step++;
      const group = groups.get(slot.step) ?? [];
      group.push(slot);
      groups.set(slot.step, group);
    }
    const { beta1, beta2, eps, weightDecay, decoupled } = this.options;
    for (const [step, group] of groups) {
      adamUpdate(
        group.map((s) => s.param.value),
        group.map((s) => s.param.grad!),
        group.map((s) => s.expAvg),
        group.map((s) => s.expAvgSq),
        { lr, beta1, beta2, eps, weightDecay, decoupled, step },
      );
    }
  }

  /** Moments as tensors (exp_avg.<key>, exp_avg_sq.<key>) and step counts by key, for checkpoints. */
  state(): { tensors: Map<string, Tensor>; steps: Record<string, number> } {
    const tensors = new Map<string, Tensor>();
    const steps: Record<string, number> = {};
    for (const s of this.slots) {
      tensors.set(`exp_avg.${s.name}`, s.expAvg);
      tensors.set(`exp_avg_sq.${s.name}`, s.expAvgSq);
      steps[s.name] = s.step;
    }
    return { tensors, steps };
  }

  /** Restores what state() returned (data copied into this optimiser's own tensors). */
  loadState(tensors: Map<string, Tensor>, steps: Record<string, number>, source = 'optimiser state'): void {
    for (const s of this.slots) {
      for (const [prefix, target] of [['exp_avg', s.expAvg], ['exp_avg_sq', s.expAvgSq]] as const) {
        const t = tensors.get(`${prefix}.${s.name}`);
        if (!t) throw new Error(`${source}: no ${prefix}.${s.name}`);
        if (t.shape.join(',') !== target.shape.join(',')) throw new Error(`${source}: ${prefix}.${s.name} has shape [${t.shape}], expected [${target.shape}]`);
        writeConverted(target, t.toArray());
      }
      if (!Number.isInteger(steps[s.name])) throw new Error(`${source}: no step count for ${s.name}`);
      s.step = steps[s.name];
    }
  }

  dispose(): void {
    for (const s of this.slots) {
      s.expAvg.dispose();
      s.expAvgSq.dispose();
    }
  }
}
