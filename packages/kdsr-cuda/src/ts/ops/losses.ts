// Training losses: L1 (reconstruction), KDSR's distillation loss and the GAN's binary cross-entropy, each with its backward.
import { Tensor } from '../tensor';
import { runOp, runOp1 } from './run';
import { checkRank, checkSameDevice, checkSameShape, fail, shapeStr } from './checks';

function checkLossGradient(op: string, dloss: Tensor): void {
  if (dloss.size !== 1) fail(op, `dloss must hold one value, got shape ${shapeStr(dloss.shape)}`);
}

/** mean |a - b| over all elements, shape [1]. */
export function l1Loss(a: Tensor, b: Tensor): Tensor {
  checkSameShape('l1_loss', 'a', a, 'b', b);
  checkSameDevice('l1_loss', { a, b });
  if (a.size === 0) fail('l1_loss', 'a and b are empty');
  return runOp1('l1_loss', [a, b]);
}

/** Gradients of l1Loss: da = dloss * sign(a - b) / n, db = -da. */
export function l1LossBackward(dloss: Tensor, a: Tensor, b: Tensor): { da: Tensor; db: Tensor } {
  const op = 'l1_loss_backward';
  checkLossGradient(op, dloss);
  checkSameShape(op, 'a', a, 'b', b);
  checkSameDevice(op, { dloss, a, b });
  const [da, db] = runOp(op, [dloss, a, b]);
  return { da: da as Tensor, db: db as Tensor };
}

function checkKd(op: string, student: Tensor, teacher: Tensor, tau: number): void {
  checkRank(op, 'student', student, 2);
  checkSameShape(op, 'student', student, 'teacher', teacher);
  if (student.size === 0) fail(op, `student ${shapeStr(student.shape)} is empty`);
  if (!(typeof tau === 'number' && tau > 0 && Number.isFinite(tau))) fail(op, `tau must be a positive number, got ${tau}`);
}

/**
 * KL(softmax(teacher / tau) || softmax(student / tau)) summed over features and divided by the
 * batch, for (B,F) inputs; shape [1]. The teacher is a constant (no gradient).
 */
export function kdLoss(student: Tensor, teacher: Tensor, tau: number): Tensor {
  checkKd('kd_loss', student, teacher, tau);
  checkSameDevice('kd_loss', { student, teacher });
  return runOp1('kd_loss', [student, teacher], { tau });
}

/** Gradient of kdLoss with respect to the student: dloss * (q - p) / (tau * B). */
export function kdLossBackward(dloss: Tensor, student: Tensor, teacher: Tensor, tau: number): Tensor {
  const op = 'kd_loss_backward';
  checkLossGradient(op, dloss);
  checkKd(op, student, teacher, tau);
  checkSameDevice(op, { dloss, student, teacher });
  return runOp1(op, [dloss, student, teacher], { tau });
}

function checkTarget(op: string, target: number): void {
  if (!(typeof target === 'number' && target >= 0 && target <= 1)) fail(op, `target must be a number in [0, 1], got ${target}`);
}

/** Binary cross-entropy with logits against a constant target (1 real, 0 fake), mean over all elements, shape [1]. */
export function bceWithLogits(logits: Tensor, target: number): Tensor {
  checkTarget('bce_with_logits', target);
  if (logits.size === 0) fail('bce_with_logits', 'logits are empty');
  return runOp1('bce_with_logits', [logits], { target });
}

/** Gradient of bceWithLogits: dloss * (sigmoid(logits) - target) / n. */
export function bceWithLogitsBackward(dloss: Tensor, logits: Tensor, target: number): Tensor {
  const op = 'bce_with_logits_backward';
  checkLossGradient(op, dloss);
  checkTarget(op, target);
  checkSameDevice(op, { dloss, logits });
  return runOp1(op, [dloss, logits], { target });
}
