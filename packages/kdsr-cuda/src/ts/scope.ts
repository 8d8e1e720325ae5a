// Deterministic memory release in the manner of tfjs' tidy(): every tensor created while a scope
// is open belongs to it and is disposed when the scope closes, unless it is returned or kept.
import type { Tensor } from './tensor';

const scopes: Array<Set<Tensor>> = [];
const kept = new WeakSet<Tensor>();

/** Called by the Tensor constructor. */
export function track(t: Tensor): void {
  if (scopes.length > 0) scopes[scopes.length - 1].add(t);
}

/** Called by Tensor.dispose(). */
export function untrack(t: Tensor): void {
  for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i].delete(t)) return;
}

/** Exempts t from every enclosing scope: it lives until disposed explicitly. */
export function keep<T extends Tensor>(t: T): T {
  kept.add(t);
  untrack(t);
  return t;
}

function collect(value: unknown, out: Set<Tensor>, seen: Set<unknown>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (typeof (value as Tensor).dispose === 'function' && typeof (value as Tensor).native === 'function') {
    out.add(value as Tensor);
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, out, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value as Record<string, unknown>)) collect(v, out, seen);
  }
}

/**
 * Runs fn in a new scope. Tensors created inside are disposed at the end, except those in the
 * result (a tensor, or arrays / plain objects / Maps holding tensors), which move to the
 * enclosing scope, and those passed to keep(). fn must be synchronous.
 */
export function tidy<R>(fn: () => R): R {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: R;
  try {
    result = fn();
  } catch (error) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw error;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new Error('tidy(fn): fn must be synchronous (it returned a Promise)');
  }
  const survivors = new Set<Tensor>();
  collect(result, survivors, new Set());
  for (const t of scope) {
    if (survivors.has(t) || kept.has(t)) continue;
    t.dispose();
  }
  for (const t of survivors) if (scope.has(t) && !t.disposed) track(t);
  return result;
}

/** Disposes every tensor found in value (a tensor, arrays, plain objects, Maps). */
export function dispose(value: unknown): void {
  const found = new Set<Tensor>();
  collect(value, found, new Set());
  for (const t of found) t.dispose();
}
