// Argument checks shared by the op wrappers; each failure names the op and the argument.
import type { Tensor } from '../tensor';

export function fail(op: string, message: string): never {
  throw new Error(`Error in ${op}: ${message}`);
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function checkRank(op: string, name: string, t: Tensor, rank: number): void {
  if (t.rank !== rank) fail(op, `${name} must have rank ${rank}, got shape ${shapeStr(t.shape)}`);
}

export function checkSameShape(op: string, aName: string, a: Tensor, bName: string, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]))
    fail(op, `${aName} ${shapeStr(a.shape)} and ${bName} ${shapeStr(b.shape)} must have the same shape`);
}

export function checkSameDevice(op: string, tensors: Record<string, Tensor | null | undefined>): void {
  let first: [string, Tensor] | undefined;
  for (const [name, t] of Object.entries(tensors)) {
    if (!t) continue;
    if (!first) first = [name, t];
    else if (t.device !== first[1].device) fail(op, `${first[0]} is on ${first[1].device} but ${name} is on ${t.device}`);
    else if (t.dtype !== first[1].dtype) fail(op, `${first[0]} is ${first[1].dtype} but ${name} is ${t.dtype}`);
  }
}

export function checkPositiveInt(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) fail(op, `${name} must be a positive integer, got ${v}`);
}

export function checkFinite(op: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(op, `${name} must be a finite number, got ${v}`);
}

export function checkInteger(op: string, name: string, v: number, min = -Infinity): void {
  if (!Number.isInteger(v) || v < min) fail(op, `${name} must be an integer${min > -Infinity ? ` >= ${min}` : ''}, got ${v}`);
}

export function checkShape(op: string, name: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0))
    fail(op, `${name} must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
}
