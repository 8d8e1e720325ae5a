// Where a worker script of this package is: beside this file in dist/, or in dist/ when running
// from src/ (ts-jest).
import * as fs from 'fs';
import * as path from 'path';

/** The compiled script `name` (e.g. 'decode-worker.js') of dist/datasets/. */
export function workerScript(name: string): string {
  const candidates = [path.join(__dirname, name), path.resolve(__dirname, '..', '..', 'dist', 'datasets', name)];
  const found = candidates.find((f) => fs.existsSync(f));
  if (!found) throw new Error(`@kdsr/data: worker script ${name} not found (${candidates.join(', ')}); build the package first (npx tsc -b)`);
  return found;
}
