// Which CUDA device the GPU tests run on, and the visible note when they cannot run here.
import { buildInfo, cudaAvailability, devices } from '../src/ts';

/** 'cuda:0' when this build has the CUDA backend and a GPU is usable, else null. */
export function gpuDevice(): string | null {
  if (!buildInfo().backends.includes('cuda')) return null;
  return devices().some((d) => d.device === 'cuda:0') ? 'cuda:0' : null;
}

/** describe() on a GPU machine; elsewhere describe.skip() plus a note on the console saying why. */
export function describeGpu(name: string, body: (device: string) => void): void {
  const device = gpuDevice();
  if (device) {
    describe(name, () => body(device));
    return;
  }
  const availability = cudaAvailability();
  const why = availability.available ? 'no cuda:0' : availability.reason;
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED GPU tests "${name}": ${why}. Run them on a CUDA machine (tools/gpu-run.sh).`);
  describe.skip(`${name} [skipped: ${why}]`, () => body('cuda:0'));
}
