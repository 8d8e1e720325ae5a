// Reverse-mode differentiation over the recorded graph (tinygrad's compute_gradient, tfjs'
// backpropagateGradients): walk the nodes reachable from the root in reverse topological order,
// apply each op's rule, check one gradient per input with the input's shape, and sum fan-in.
// Intermediate gradients are disposed as soon as their node has been processed; leaf gradients go
// to their sinks (parameters) or are returned for the tensors asked for in `inputs`.
import { add, opTable, Tensor } from '@kdsr/cuda';
import { GradNode, gradNode, gradSink, noGrad } from './graph';
import { gradRules } from './grads';

export interface BackwardOptions {
  /** The upstream gradient of the root (default: ones; required unless the root has one element). */
  grad?: Tensor;
  /** Tensors (leaves or intermediates) whose gradients to return, in this order (null: no path). */
  inputs?: readonly Tensor[];
}

function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function inputName(op: string, i: number): string {
  const spec = opTable()[op];
  const name = spec?.inputs[i];
  return name ? `'${name.replace(/[?.]+$/, '')}'` : `#${i}`;
}

/** Nodes reachable from root, each after every node that consumes its output (reverse topological order). */
function reverseTopological(root: Tensor): GradNode[] {
  const order: GradNode[] = [];
  const visited = new Set<Tensor>();
  const stack: Array<[Tensor, boolean]> = [[root, false]];
  while (stack.length > 0) {
    const [t, expanded] = stack.pop()!;
    const node = gradNode(t);
    if (!node) continue;
    if (expanded) {
      order.push(node);
      continue;
    }
    if (visited.has(t)) continue;
    visited.add(t);
    stack.push([t, true]);
    node.inputs.forEach((x, i) => {
      if (x && node.needs[i] && !visited.has(x)) stack.push([x, false]);
    });
  }
  return order.reverse();
}

/** Reference-counted gradient slots: rules may return the same tensor for several inputs (add). */
class GradientBook {
  private readonly slots = new Map<Tensor, Tensor>();
  private readonly owners = new Map<Tensor, number>();

  get(t: Tensor): Tensor | undefined {
    return this.slots.get(t);
  }

  private retain(g: Tensor): void {
    this.owners.set(g, (this.owners.get(g) ?? 0) + 1);
  }

  /** Drops one reference to g; disposes it when no slot holds it any more. */
  release(g: Tensor): void {
    const n = (this.owners.get(g) ?? 1) - 1;
    if (n > 0) this.owners.set(g, n);
    else {
      this.owners.delete(g);
      g.dispose();
    }
  }

  accumulate(t: Tensor, g: Tensor): void {
    const previous = this.slots.get(t);
    if (!previous) {
      this.slots.set(t, g);
      this.retain(g);
      return;
    }
    const sum = add(previous, g);
    this.release(previous);
    if (!this.owners.has(g)) g.dispose(); // a fresh gradient nobody else holds
    this.slots.set(t, sum);
    this.retain(sum);
  }

  /** Removes t's slot and returns its gradient, owned by the caller (a copy if another slot shares it). */
  take(t: Tensor): Tensor | undefined {
    const g = this.slots.get(t);
    if (!g) return undefined;
    this.slots.delete(t);
    if ((this.owners.get(g) ?? 0) > 1) {
      this.release(g);
      return g.to(g.device);
    }
    this.owners.delete(g);
    return g;
  }

  discard(t: Tensor): void {
    const g = this.slots.get(t);
    if (!g) return;
    this.slots.delete(t);
    this.release(g);
  }

  remaining(): Tensor[] {
    return [...this.slots.keys()];
  }
}

/**
 * Computes gradients of root: parameters (leaves with a sink) accumulate theirs; the gradients of
 * options.inputs are returned. Nothing is recorded while it runs. Graph nodes stay attached to
 * their tensors, which are released by the caller's tidy scope.
 */
export function backward(root: Tensor, options: BackwardOptions = {}): Array<Tensor | null> {
  return noGrad(() => {
    let seed = options.grad;
    if (seed) {
      if (shapeStr(seed.shape) !== shapeStr(root.shape)) throw new Error(`backward: grad ${shapeStr(seed.shape)} must have the root's shape ${shapeStr(root.shape)}`);
    } else {
      if (root.size !== 1) throw new Error(`backward: the root has shape ${shapeStr(root.shape)}; pass options.grad for a non-scalar root`);
      const ones = root.dtype === 'float64' ? new Float64Array(1).fill(1) : new Float32Array(1).fill(1);
      seed = Tensor.fromArray(ones, root.shape, { device: root.device, dtype: root.dtype });
    }
    const wanted = new Set(options.inputs ?? []);
    const results = new Map<Tensor, Tensor>();
    const book = new GradientBook();
    // The caller owns options.grad; give the book its own view so that releasing it is harmless.
    book.accumulate(root, options.grad ? seed.reshape(seed.shape) : seed);

    for (const node of reverseTopological(root)) {
      const dy = book.get(node.output);
      if (!dy) continue;
      const rule = gradRules[node.op];
      if (!rule) throw new Error(`backward: no gradient rule for op '${node.op}'`);
      let grads: Array<Tensor | null>;
      try {
        grads = rule(dy, node);
      } catch (error) {
        throw new Error(`backward of '${node.op}': ${(error as Error).message}`);
      }
      if (grads.length !== node.inputs.length)
        throw new Error(`backward of '${node.op}': the rule returned ${grads.length} gradients for ${node.inputs.length} inputs`);
      grads.forEach((g, i) => {
        const x = node.inputs[i];
        if (!g) return; // not differentiable with respect to this input (e.g. kd_loss's teacher)
        if (!x || !node.needs[i]) {
          if (g !== dy) g.dispose();
          return;
        }
        if (shapeStr(g.shape) !== shapeStr(x.shape))
          throw new Error(`backward of '${node.op}': gradient of input ${inputName(node.op, i)} has shape ${shapeStr(g.shape)}, expected ${shapeStr(x.shape)}`);
        book.accumulate(x, g);
      });
      if (wanted.has(node.output)) {
        const g = book.take(node.output);
        if (g) results.set(node.output, g);
      } else book.discard(node.output);
    }

    for (const t of book.remaining()) {
      if (wanted.has(t)) {
        results.set(t, book.take(t)!);
        continue;
      }
      const sink = gradSink(t);
      if (sink) sink.accumulateGrad(book.take(t)!);
      else book.discard(t);
    }
    // A wanted tensor that is also a parameter: the parameter still receives its gradient.
    for (const [t, g] of results) {
      const sink = gradSink(t);
      if (sink && !gradNode(t)) sink.accumulateGrad(g.to(g.device));
    }
    return (options.inputs ?? []).map((t) => results.get(t) ?? null);
  });
}
