// op-table.json, the declarative list of kernels that the native registry, the TS wrappers and
// kdsr-core's gradient rules follow.
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from './package-root';

export type OpGrad = { kernel: string; saves: string[] } | { composite: string } | null;

export interface OpSpec {
  /** Input names; a trailing '?' marks an optional input, a trailing '...' a list. */
  inputs: string[];
  attrs: Record<string, string>;
  outputs: string[];
  doc: string;
  grad: OpGrad;
  backends: Array<'cpu' | 'cuda'>;
  inplace?: string[];
}

let table: Record<string, OpSpec> | undefined;

export function opTable(): Record<string, OpSpec> {
  if (!table) {
    const file = path.join(packageRoot(), 'op-table.json');
    table = (JSON.parse(fs.readFileSync(file, 'utf8')) as { ops: Record<string, OpSpec> }).ops;
  }
  return table;
}

export function opSpec(name: string): OpSpec {
  const spec = opTable()[name];
  if (!spec) throw new Error(`unknown op '${name}' (not in op-table.json)`);
  return spec;
}
