// Shared test helpers: fixtures, the fixtures' error measure, scratch folders, seeded numbers.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { testing } from '@kdsr/cuda';

// Fixtures, datasets, the fixtures README's error metric and seeded numbers come from @kdsr/cuda's testing module.
export const { fixturesDir, datasetsDir, fixture, fixtureTensor, relativeError, expectArrayClose, expectClose, randomArray } = testing;

export function fixtureArray(file: string, name: string): Float32Array {
  return fixtureTensor(file, name).toFloat32Array();
}

/** A metadata entry of a fixture file, parsed from JSON. */
export function fixtureMeta<T = unknown>(file: string, key: string): T {
  const value = fixture(file).metadata[key];
  if (value === undefined) throw new Error(`${file} has no metadata '${key}'`);
  return JSON.parse(value) as T;
}

/** A fresh scratch folder, removed by the returned cleanup. */
export function scratchDir(prefix = 'kdsr-data-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

