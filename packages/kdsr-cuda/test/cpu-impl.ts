// Running a test body under each CPU implementation: the plain reference kernels and, where the
// addon was built with it, oneDNN.
import { buildInfo, cpuImplementation, setCpuImplementation } from '../src/ts';

export type CpuImplementation = 'reference' | 'onednn';

export const hasOnednn = buildInfo().onednn !== null;

/** The CPU implementations this build has. */
export const cpuImplementations: CpuImplementation[] = hasOnednn ? ['reference', 'onednn'] : ['reference'];

/** Runs fn with `impl` preferred for CPU kernels, restoring the previous preference afterwards. */
export function withCpuImplementation<R>(impl: CpuImplementation, fn: () => R): R {
  const previous = cpuImplementation();
  setCpuImplementation(impl);
  try {
    return fn();
  } finally {
    setCpuImplementation(previous);
  }
}
