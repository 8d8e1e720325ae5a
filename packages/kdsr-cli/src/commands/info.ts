// `kdsr info`: what this installation can do — versions, compiled backends, oneDNN, devices.
import { buildInfo, devices, numThreads } from '@kdsr/cuda';

export interface InfoReport {
  version: string;
  node: string;
  engine: string;
  backends: string[];
  onednn: string | null;
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
    threads: numThreads(),
    devices: devices(),
  };
}

export function formatInfo(info: InfoReport): string {
  return [
    `kdsr ${info.version} (engine @kdsr/cuda ${info.engine}, Node ${info.node})`,
    `backends compiled: ${info.backends.join(', ')}`,
    `CPU: ${info.onednn ? `oneDNN ${info.onednn}` : 'reference kernels (oneDNN not found at build time)'}, ${info.threads} threads`,
    'devices:',
    ...info.devices.map((d) => `  ${d.device.padEnd(8)} ${d.name}`),
  ].join('\n');
}
