// Clamping to [min, max] and 8-bit-style quantisation.
import { Tensor } from '../tensor';
import { runOp1 } from './run';
import { checkFinite, checkSameDevice, checkSameShape, fail } from './checks';

function checkBounds(op: string, min: number, max: number): void {
  if (typeof min !== 'number' || typeof max !== 'number' || Number.isNaN(min) || Number.isNaN(max) || min > max)
    fail(op, `min ${min} and max ${max} must be numbers with min <= max`);
}

/** min(max(x, min), max). */
export function clamp(x: Tensor, min: number, max: number): Tensor {
  checkBounds('clamp', min, max);
  return runOp1('clamp', [x], { min, max });
}

/** Gradient of clamp: dy where min < x < max, else 0. */
export function clampBackward(dy: Tensor, x: Tensor, min: number, max: number): Tensor {
  const op = 'clamp_backward';
  checkBounds(op, min, max);
  checkSameShape(op, 'dy', dy, 'x', x);
  checkSameDevice(op, { dy, x });
  return runOp1(op, [dy, x], { min, max });
}

/** round(clamp(x, 0, 1) * levels) / levels, rounding half to even (levels 255: 8-bit images). Not differentiable. */
export function quantize(x: Tensor, levels = 255): Tensor {
  checkFinite('quantize', 'levels', levels);
  if (levels <= 0) fail('quantize', `levels must be positive, got ${levels}`);
  return runOp1('quantize', [x], { levels });
}
