// The one path from a TS op wrapper to a native kernel. Wrappers validate their arguments with
// messages of the form "Error in <op>: ..." (see checks.ts) and then call runOp.
import { Attrs, native } from '../binding';
import { Tensor } from '../tensor';

/** Runs a kernel; outputs the kernel did not produce are null. */
export function runOp(op: string, inputs: ReadonlyArray<Tensor | null | undefined>, attrs: Attrs = {}): Array<Tensor | null> {
  const handles = inputs.map((t) => (t ? t.native() : null));
  return native()
    .run(op, handles, attrs)
    .map((h) => (h ? new Tensor(h) : null));
}

/** Runs a kernel with exactly one output. */
export function runOp1(op: string, inputs: ReadonlyArray<Tensor | null | undefined>, attrs: Attrs = {}): Tensor {
  const [y] = runOp(op, inputs, attrs);
  if (!y) throw new Error(`Error in ${op}: the kernel returned no output`);
  return y;
}
