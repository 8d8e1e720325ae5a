// Modules are plain classes; parameters are found by reflection over their own properties, so a
// parameter's name is its attribute path (tinygrad's get_state_dict) and equals the original
// PyTorch state-dict key when the properties carry PyTorch's attribute names (G, E_st, da_conv1...).
import { Tensor } from '@kdsr/cuda';
import { Parameter } from './parameter';

/** A weight to load: an engine tensor or host data (e.g. from a PyTorch checkpoint). */
export type WeightValue = Tensor | { readonly shape: readonly number[]; readonly data: Float32Array | Float64Array };

export abstract class Module {
  /** Named sub-modules and parameters, in declaration order (Sequential overrides this with indices). */
  namedChildren(): Array<[string, Module | Parameter]> {
    const out: Array<[string, Module | Parameter]> = [];
    for (const [name, value] of Object.entries(this)) if (value instanceof Module || value instanceof Parameter) out.push([name, value]);
    return out;
  }

  /** Every parameter with its dotted path, e.g. 'G.body.0.body.1.conv1.weight'. */
  namedParameters(prefix = ''): Array<[string, Parameter]> {
    const out: Array<[string, Parameter]> = [];
    for (const [name, child] of this.namedChildren()) {
      const path = prefix ? `${prefix}.${name}` : name;
      if (child instanceof Parameter) out.push([path, child]);
      else out.push(...child.namedParameters(path));
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  trainableParameters(): Parameter[] {
    return this.parameters().filter((p) => p.trainable);
  }

  /** Parameter values by key (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters().map(([name, p]) => [name, p.value]));
  }

  /**
   * Copies values into the parameters. Every key must exist with the right shape; with strict
   * (default) every parameter must be given too.
   */
  loadStateDict(values: ReadonlyMap<string, WeightValue>, options: { strict?: boolean; source?: string } = {}): void {
    const source = options.source ?? 'state dict';
    const params = new Map(this.namedParameters());
    const unexpected = [...values.keys()].filter((k) => !params.has(k));
    const missing = [...params.keys()].filter((k) => !values.has(k));
    if (unexpected.length > 0) throw new Error(`${source}: unexpected keys ${unexpected.slice(0, 8).join(', ')}${unexpected.length > 8 ? ', ...' : ''} (the model has e.g. ${[...params.keys()].slice(0, 3).join(', ')})`);
    if ((options.strict ?? true) && missing.length > 0) throw new Error(`${source}: missing keys ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', ...' : ''}`);
    for (const [key, v] of values) {
      const p = params.get(key)!;
      if (v.shape.join(',') !== p.shape.join(',')) throw new Error(`${source}: '${key}' has shape [${v.shape}], the model expects [${p.shape}] (different preset or scale?)`);
    }
    for (const [key, v] of values) {
      params.get(key)!.write(v instanceof Tensor ? v.toArray() : v.data);
    }
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }
}

/** A module that maps one tensor to one tensor (what Sequential chains). */
export interface Layer {
  forward(x: Tensor): Tensor;
}
