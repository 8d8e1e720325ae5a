// The training losses. Stage 1: L1(sr, hr). Stage 2: L1(sr, hr) + λ_kd · KD(D'_student, D'_teacher)
// with KD = KL(softmax(D'_T/τ) || softmax(D'_S/τ)) summed over features and averaged over the batch
// (no τ² factor), τ = 0.15 — the values of the original KDSR code. λ_kd defaults to 1 as there;
// it is configurable because the KD term's scale depends on τ and on the representation width 4C,
// so a different preset or τ may need it rebalanced against the L1 term.
import type { Tensor } from '@kdsr/cuda';
import * as F from '../autograd/functional';

export const KD_TEMPERATURE = 0.15;
export const KD_WEIGHT = 1;

export interface KdOptions {
  tau?: number;
  weight?: number;
}

export function l1Loss(sr: Tensor, hr: Tensor): Tensor {
  return F.l1Loss(sr, hr);
}

export function kdLoss(studentIdrKd: Tensor, teacherIdrKd: Tensor, tau = KD_TEMPERATURE): Tensor {
  return F.kdLoss(studentIdrKd, teacherIdrKd, tau);
}

export interface StudentLosses {
  l1: Tensor;
  kd: Tensor;
  total: Tensor;
}

/** L1 + weight · KD (the stage-2 objective). */
export function studentLosses(sr: Tensor, hr: Tensor, studentIdrKd: Tensor, teacherIdrKd: Tensor, options: KdOptions = {}): StudentLosses {
  const l1 = l1Loss(sr, hr);
  const kd = kdLoss(studentIdrKd, teacherIdrKd, options.tau ?? KD_TEMPERATURE);
  const weight = options.weight ?? KD_WEIGHT;
  return { l1, kd, total: F.axpy(kd, l1, weight) };
}
