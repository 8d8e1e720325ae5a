// `kdsr info`: what this installation can do — versions, compiled backends, oneDNN, devices.
import { buildInfo, devices, nativeOrigin, numThreads } from '@kdsr/cuda';
import type { AddonOrigin } from '@kdsr/cuda';

export interface InfoReport {
  version: string;
  node: string;
  engine: string;
  backends: string[];
  onednn: string | null;
  /** The addon file in use and where it came from (a source build, the prebuilt platform package). */
  addon: AddonOrigin;
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
    threads: numThreads(),
    devices: devices(),
  };
}

export function formatInfo(info: InfoReport): string {
  return [
    `kdsr ${info.version} (engine @kdsr/cuda ${info.engine}, Node ${info.node})`,
    `addon: ${info.addon.file} (${info.addon.from})`,
    `backends compiled: ${info.backends.join(', ')}`,
    ...(info.backends.includes('cuda') ? [] : [`CUDA: not in this addon: ${noCudaReason(info.addon)}`]),
    `CPU: ${info.onednn ? `oneDNN ${info.onednn}` : 'reference kernels (oneDNN not found at build time)'}, ${info.threads} threads`,
    'devices:',
    ...info.devices.map((d) => `  ${d.device.padEnd(8)} ${d.name}`),
  ].join('\n');
}

function noCudaReason(addon: AddonOrigin): string {
  return addon.from === 'platform package'
    ? 'the prebuilt addon is CPU-only so that it loads without cuDNN and cuBLAS; with the CUDA toolkit, cuDNN 9 and cuBLAS installed, build from source: KDSR_BUILD_FROM_SOURCE=1 npm rebuild @kdsr/cuda --foreground-scripts'
    : 'it was built without the CUDA toolkit, cuDNN 9 or cuBLAS (the build says which: packages/kdsr-cuda/README.md, "CUDA backend")';
}
