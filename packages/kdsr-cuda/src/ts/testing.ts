// Helpers for the packages' tests (exported as `testing`, as tfjs exports test_util): the shared
// fixtures and datasets, the fixtures README's error metric, and seeded random inputs. Not used by the engine.
import * as fs from 'fs';
import * as path from 'path';
import { buildInfo, cpuImplementation, setCpuImplementation } from './engine';
import { packageRoot } from './package-root';
import { loadSafetensors, SafetensorsFile } from './safetensors';
import { keep } from './scope';
import { Tensor } from './tensor';

/** The shared fixtures: shared/fixtures beside the repository (override with KDSR_FIXTURES). */
export function fixturesDir(): string {
  const dir = process.env.KDSR_FIXTURES ?? path.resolve(packageRoot(), '..', '..', '..', 'shared', 'fixtures');
  if (!fs.existsSync(dir)) throw new Error(`fixtures not found at ${dir}; set KDSR_FIXTURES`);
  return dir;
}

/** The shared datasets: shared/datasets beside the repository (override with KDSR_DATASETS). */
export function datasetsDir(): string {
  const dir = process.env.KDSR_DATASETS ?? path.resolve(packageRoot(), '..', '..', '..', 'shared', 'datasets');
  if (!fs.existsSync(dir)) throw new Error(`datasets not found at ${dir}; set KDSR_DATASETS`);
  return dir;
}

export function fixturePath(name: string): string {
  return path.join(fixturesDir(), name);
}

const cache = new Map<string, SafetensorsFile>();

/** A safetensors fixture's tensors, loaded once per process and kept (never disposed by a tidy()). */
export function fixture(name: string): SafetensorsFile {
  let file = cache.get(name);
  if (!file) {
    file = loadSafetensors(fixturePath(name));
    // The first use may be inside a tidy(); the cached tensors must outlive it.
    for (const t of file.tensors.values()) keep(t);
    cache.set(name, file);
  }
  return file;
}

export function fixtureTensor(file: string, name: string): Tensor {
  const t = fixture(file).tensors.get(name);
  if (!t) throw new Error(`${file} has no tensor '${name}'`);
  return t;
}

/** The fixture's tensors whose names start with prefix, keyed by the rest of the name. */
export function fixtureGroup(file: string, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, t] of fixture(file).tensors) if (name.startsWith(prefix)) out.set(name.slice(prefix.length), t);
  return out;
}

/** max |a - e| / max |e| — the fixtures' per-tensor error measure. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != expected ${expected.length}`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

/** Throws unless the lengths match and relativeError <= tolerance (naming the first mismatches); returns the error. */
export function expectArrayClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, label = ''): number {
  const error = relativeError(actual, expected);
  if (!(error <= tolerance)) {
    let maxRef = 0;
    for (let i = 0; i < expected.length; i++) maxRef = Math.max(maxRef, Math.abs(expected[i]));
    const bad: string[] = [];
    for (let i = 0; i < expected.length && bad.length < 5; i++)
      if (!(Math.abs(actual[i] - expected[i]) <= tolerance * (maxRef || 1))) bad.push(`[${i}] expected ${expected[i]} got ${actual[i]}`);
    throw new Error(`${label}: relative error ${error.toExponential(3)} > ${tolerance}\n  ${bad.join('\n  ')}`);
  }
  return error;
}

/** expectArrayClose for tensors, after checking that the shapes match. */
export function expectClose(actual: Tensor, expected: Tensor, tolerance: number, label = ''): number {
  if (actual.shape.join(',') !== expected.shape.join(',')) throw new Error(`${label}: shape [${actual.shape}] != expected [${expected.shape}]`);
  return expectArrayClose(actual.toArray(), expected.toArray(), tolerance, label);
}

/** Deterministic pseudo-random numbers for test inputs (mulberry32), uniform in [lo, hi). */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float64Array {
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

/** A tensor of randomArray values (float64 unless asked otherwise). */
export function randomTensor(shape: number[], seed: number, dtype: 'float32' | 'float64' = 'float64', lo = -1, hi = 1): Tensor {
  const data = randomArray(shape.reduce((a, b) => a * b, 1), seed, lo, hi);
  return Tensor.fromArray(dtype === 'float64' ? data : Float32Array.from(data), shape, { dtype });
}

/** The CPU implementations this build has: the reference kernels and, where built with it, oneDNN. */
export function cpuImplementations(): Array<'reference' | 'onednn'> {
  return buildInfo().onednn === null ? ['reference'] : ['reference', 'onednn'];
}

/** Runs fn with `impl` preferred for CPU kernels, restoring the previous preference afterwards. */
export function withCpuImplementation<R>(impl: 'reference' | 'onednn', fn: () => R): R {
  const previous = cpuImplementation();
  setCpuImplementation(impl);
  try {
    return fn();
  } finally {
    setCpuImplementation(previous);
  }
}
