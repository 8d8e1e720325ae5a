// Running a test body under each CPU implementation: the plain reference kernels and, where the
// addon was built with it, oneDNN (the helpers live in the package's testing module).
import { buildInfo, testing } from '../src/ts';

export type CpuImplementation = 'reference' | 'onednn';

export const hasOnednn = buildInfo().onednn !== null;

/** The CPU implementations this build has. */
export const cpuImplementations: CpuImplementation[] = testing.cpuImplementations();

export const { withCpuImplementation } = testing;
