// Shared test helpers: fixtures, the fixtures' error measure, scratch folders, seeded numbers.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Tensor, testing } from '@kdsr/cuda';

// Fixtures and the fixtures README's error metric come from @kdsr/cuda's testing module.
export const { fixturesDir, fixture, fixtureTensor, relativeError } = testing;

/** /work/shared/datasets beside the repository (override with KDSR_DATASETS). */
export function datasetsDir(): string {
  const dir = process.env.KDSR_DATASETS ?? path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'datasets');
  if (!fs.existsSync(dir)) throw new Error(`datasets not found at ${dir}; set KDSR_DATASETS`);
  return dir;
}

export function fixtureArray(file: string, name: string): Float32Array {
  return fixtureTensor(file, name).toFloat32Array();
}

/** A metadata entry of a fixture file, parsed from JSON. */
export function fixtureMeta<T = unknown>(file: string, key: string): T {
  const value = fixture(file).metadata[key];
  if (value === undefined) throw new Error(`${file} has no metadata '${key}'`);
  return JSON.parse(value) as T;
}

/** Asserts equal length and relativeError <= tolerance, naming the first mismatches on failure. */
export function expectArrayClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, label = ''): void {
  const error = relativeError(actual, expected);
  if (!(error <= tolerance)) {
    let maxRef = 0;
    for (let i = 0; i < expected.length; i++) maxRef = Math.max(maxRef, Math.abs(expected[i]));
    const bad: string[] = [];
    for (let i = 0; i < expected.length && bad.length < 5; i++)
      if (Math.abs(actual[i] - expected[i]) > tolerance * (maxRef || 1)) bad.push(`[${i}] expected ${expected[i]} got ${actual[i]}`);
    throw new Error(`${label}: relative error ${error.toExponential(3)} > ${tolerance}\n  ${bad.join('\n  ')}`);
  }
}

export function expectClose(actual: Tensor, expected: Tensor, tolerance: number, label = ''): void {
  expect(actual.shape).toEqual(expected.shape);
  expectArrayClose(actual.toArray(), expected.toArray(), tolerance, label);
}

/** A fresh scratch folder, removed by the returned cleanup. */
export function scratchDir(prefix = 'kdsr-data-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic pseudo-random numbers (mulberry32), uniform in [lo, hi). */
export function randomArray(n: number, seed: number, lo = 0, hi = 1): Float64Array {
  let a = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}
