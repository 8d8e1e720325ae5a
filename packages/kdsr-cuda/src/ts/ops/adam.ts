// The fused Adam / AdamW optimiser step.
import { Tensor } from '../tensor';
import { runOp } from './run';
import { checkFinite, checkInteger, checkSameDevice, checkSameShape, fail } from './checks';

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** L2 penalty added to the gradient (Adam) or, with decoupled, weight decay applied to the weights (AdamW). */
  weightDecay?: number;
  decoupled?: boolean;
  /** The step being taken, counted from 1 (for bias correction). */
  step: number;
}

/**
 * One Adam step, in place on params, expAvg (first moments) and expAvgSq (second moments), with
 * PyTorch's semantics (torch.optim.Adam, or AdamW when decoupled). The four lists are parallel.
 */
export function adamUpdate(
  params: readonly Tensor[],
  grads: readonly Tensor[],
  expAvg: readonly Tensor[],
  expAvgSq: readonly Tensor[],
  { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, decoupled = false, step }: AdamOptions,
): void {
  const op = 'adam_update';
  const n = params.length;
  if (grads.length !== n || expAvg.length !== n || expAvgSq.length !== n)
    fail(op, `params, grads, expAvg and expAvgSq must have the same length, got ${n}, ${grads.length}, ${expAvg.length}, ${expAvgSq.length}`);
  for (const [name, v] of [['lr', lr], ['eps', eps], ['weightDecay', weightDecay]] as const) {
    checkFinite(op, name, v);
    if (v < 0) fail(op, `${name} must not be negative, got ${v}`);
  }
  for (const [name, v] of [['beta1', beta1], ['beta2', beta2]] as const)
    if (!(v >= 0 && v < 1)) fail(op, `${name} must be in [0, 1), got ${v}`);
  checkInteger(op, 'step', step, 1);
  const updated = new Set<Tensor>();
  for (let k = 0; k < n; k++) {
    const p = params[k];
    checkSameShape(op, `grads[${k}]`, grads[k], `params[${k}]`, p);
    checkSameShape(op, `expAvg[${k}]`, expAvg[k], `params[${k}]`, p);
    checkSameShape(op, `expAvgSq[${k}]`, expAvgSq[k], `params[${k}]`, p);
    checkSameDevice(op, { [`params[${k}]`]: p, [`grads[${k}]`]: grads[k], [`expAvg[${k}]`]: expAvg[k], [`expAvgSq[${k}]`]: expAvgSq[k] });
    for (const t of [p, expAvg[k], expAvgSq[k]]) {
      if (updated.has(t)) fail(op, `tensor ${k} of params / expAvg / expAvgSq appears twice; updated tensors must be distinct`);
      updated.add(t);
    }
  }
  if (n === 0) return;
  runOp(op, [...params, ...grads, ...expAvg, ...expAvgSq], { lr, beta1, beta2, eps, weight_decay: weightDecay, decoupled, step });
}
