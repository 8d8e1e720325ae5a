// Exponential moving average of the weights (BasicSR's net_g_ema, decay 0.999):
// ema = decay · ema + (1 − decay) · param after every update; evaluation and export may use it.
import { axpy, keep, scale, Tensor, tidy } from '@kdsr/cuda';
import { type Parameter, writeConverted } from '../nn/parameter';

export class Ema {
  private readonly shadow: Map<string, Tensor>;

  constructor(
    private readonly params: ReadonlyArray<[string, Parameter]>,
    readonly decay = 0.999,
  ) {
    if (!(decay > 0 && decay < 1)) throw new Error(`Ema: decay must be in (0, 1), got ${decay}`);
    this.shadow = new Map(params.map(([name, p]) => [name, keep(p.value.to(p.value.device))]));
  }

  update(): void {
    for (const [name, p] of this.params) {
      const previous = this.shadow.get(name)!;
      const next = tidy(() => axpy(p.value, scale(previous, this.decay), 1 - this.decay));
      this.shadow.set(name, keep(next));
      previous.dispose();
    }
  }

  /** The averaged weights by key (the tensors themselves). */
  weights(): Map<string, Tensor> {
    return new Map(this.shadow);
  }

  /** Starts the average afresh from the current weights (e.g. when EMA is switched on for a resumed run). */
  reset(): void {
    for (const [name, p] of this.params) writeConverted(this.shadow.get(name)!, p.value.toArray());
  }

  load(tensors: Map<string, Tensor>, source = 'EMA state'): void {
    for (const [name, target] of this.shadow) {
      const t = tensors.get(name);
      if (!t) throw new Error(`${source}: no EMA weights for ${name}`);
      if (t.shape.join(',') !== target.shape.join(',')) throw new Error(`${source}: ${name} has shape [${t.shape}], expected [${target.shape}]`);
      writeConverted(target, t.toArray());
    }
  }

  dispose(): void {
    for (const t of this.shadow.values()) t.dispose();
  }
}
