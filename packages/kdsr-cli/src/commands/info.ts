// `kdsr info`: what this installation can do — versions, backends, the CUDA backend and why it cannot
// run when it cannot, oneDNN and the instruction set of the CPU kernels, devices.
import { buildInfo, cpuIsa, cudaAvailability, devices, nativeOrigin, numThreads } from '@kdsr/cuda';
import type { AddonOrigin, CpuIsa, CudaAvailability, CudaBuildInfo } from '@kdsr/cuda';

export interface InfoReport {
  version: string;
  node: string;
  engine: string;
  /** The backends that can run: 'cpu', and 'cuda' when its module loaded. */
  backends: string[];
  onednn: string | null;
  /** The addon file in use and where it came from (a source build, the prebuilt platform package). */
  addon: AddonOrigin;
  /** The CUDA backend's module (null in a CPU-only build): loaded, with its libraries, or why not. */
  cuda: CudaBuildInfo | null;
  /** Whether CUDA devices can be used, or why not. */
  cudaAvailability: CudaAvailability;
  /** The instruction set kdsr's own CPU kernels run in (the best this CPU has, or KDSR_CPU_ISA's). */
  cpuIsa: CpuIsa;
  threads: number;
  devices: Array<{ device: string; name: string }>;
}

export function collectInfo(cliVersion: string): InfoReport {
  const build = buildInfo();
  return {
    version: cliVersion,
    node: process.version,
    engine: build.version,
    backends: build.backends,
    onednn: build.onednn,
    addon: nativeOrigin(),
    cuda: build.cuda,
    cudaAvailability: cudaAvailability(),
    cpuIsa: cpuIsa(),
    threads: numThreads(),
    devices: devices(),
  };
}

const ISA_NAMES: Record<CpuIsa, string> = { avx512: 'AVX-512', avx2: 'AVX2', baseline: 'baseline x86-64' };

export function formatInfo(info: InfoReport): string {
  return [
    `kdsr ${info.version} (engine @kdsr/cuda ${info.engine}, Node ${info.node})`,
    `addon: ${info.addon.file} (${info.addon.from})`,
    `backends: ${info.backends.join(', ')}`,
    ...cudaLines(info),
    `CPU: ${info.onednn ? `oneDNN ${info.onednn}` : 'reference kernels (oneDNN not found at build time)'}, own kernels for ${ISA_NAMES[info.cpuIsa]}, ${info.threads} threads`,
    'devices:',
    ...info.devices.map((d) => `  ${d.device.padEnd(8)} ${d.name}`),
  ].join('\n');
}

function cudaLines({ cuda, cudaAvailability: availability, addon }: InfoReport): string[] {
  if (!cuda) return [`CUDA: not in this addon: ${noCudaReason(addon)}`];
  if (!cuda.loaded) return [`CUDA: unavailable, using the CPU: ${cuda.error}`, ...(cuda.hint ? [`  to use an NVIDIA GPU, ${cuda.hint}`] : [])];
  const libraries = `CUDA ${cuda.runtime} (architectures ${cuda.architectures}), cuDNN ${cuda.cudnn.version} (${cuda.cudnn.file}), cuBLAS ${cuda.cublas.version} (${cuda.cublas.file})`;
  return availability.available ? [`CUDA: ${libraries}`] : [`CUDA: ${libraries}; unavailable: ${availability.reason}`];
}

function noCudaReason(addon: AddonOrigin): string {
  return addon.from === 'platform package'
    ? 'this prebuilt package was built without the CUDA toolkit; with the toolkit, cuDNN 9 and cuBLAS installed, build from source: KDSR_BUILD_FROM_SOURCE=1 npm rebuild @kdsr/cuda --foreground-scripts'
    : 'it was built without the CUDA toolkit, cuDNN 9 or cuBLAS (the build says which: packages/kdsr-cuda/README.md, "CUDA backend")';
}
