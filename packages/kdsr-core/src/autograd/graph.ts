// The recorded graph: every differentiable op whose inputs require gradients attaches a node to its
// output tensor (kept in a WeakMap, so a graph lives exactly as long as its tensors are reachable,
// and no global tape can grow across steps). Leaves are tensors marked as requiring gradients;
// a leaf may have a sink (a Parameter) that receives its gradient at the end of backward().
import type { Tensor } from '@kdsr/cuda';

export interface GradNode {
  /** The op-table name (or a core-level composite such as 'reshape'). */
  op: string;
  /** Forward inputs, positionally as in op-table.json; null for an absent optional input. */
  inputs: ReadonlyArray<Tensor | null>;
  output: Tensor;
  attrs: Readonly<Record<string, unknown>>;
  /** needs[i]: input i requires a gradient. */
  needs: readonly boolean[];
}

/** Receives the gradient of a leaf (Parameter implements this). It takes ownership of the tensor. */
export interface GradSink {
  accumulateGrad(grad: Tensor): void;
}

const nodes = new WeakMap<Tensor, GradNode>();
const leaves = new WeakSet<Tensor>();
const sinks = new WeakMap<Tensor, GradSink>();
let disabledDepth = 0;

export function isGradEnabled(): boolean {
  return disabledDepth === 0;
}

/**
 * Runs fn without recording (inference, validation, the frozen teacher in stage 2). fn may be
 * synchronous or return a promise; recording stays off until the promise settles.
 */
export function noGrad<R>(fn: () => R): R {
  disabledDepth++;
  let result: R;
  try {
    result = fn();
  } catch (error) {
    disabledDepth--;
    throw error;
  }
  if (result instanceof Promise) return result.finally(() => disabledDepth--) as R;
  disabledDepth--;
  return result;
}

/**
 * Frees an intermediate once its last consumer has run, when nothing is recorded (inference, the
 * frozen teacher): no graph can need it then, so a forward pass holds a few activations at a time
 * instead of every one until its tidy() scope closes. While recording, it stays for backward (the
 * enclosing tidy() frees it). Only for tensors the caller made and hands to no one else.
 */
export function releaseIntermediate(t: Tensor): void {
  if (disabledDepth > 0) t.dispose();
}

/** Marks t as a leaf whose gradient backward() should compute (or unmarks it). */
export function setRequiresGrad<T extends Tensor>(t: T, flag = true): T {
  if (flag) leaves.add(t);
  else leaves.delete(t);
  return t;
}

export function requiresGrad(t: Tensor): boolean {
  return leaves.has(t) || nodes.has(t);
}

/** Registers the sink that receives t's gradient; null removes it. */
export function setGradSink(t: Tensor, sink: GradSink | null): void {
  if (sink) sinks.set(t, sink);
  else sinks.delete(t);
}

export function gradSink(t: Tensor): GradSink | undefined {
  return sinks.get(t);
}

export function gradNode(t: Tensor): GradNode | undefined {
  return nodes.get(t);
}

/** Attaches a node to output when recording is on and some input requires a gradient. */
export function record(op: string, inputs: ReadonlyArray<Tensor | null>, attrs: Record<string, unknown>, output: Tensor): void {
  if (disabledDepth > 0) return;
  const needs = inputs.map((t) => t !== null && requiresGrad(t));
  if (!needs.some(Boolean)) return;
  nodes.set(output, { op, inputs, output, attrs, needs });
}
