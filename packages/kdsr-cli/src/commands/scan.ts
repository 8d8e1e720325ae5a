// `kdsr scan`: decode every image of a folder or LMDB once and report the unreadable ones (@kdsr/data).
import * as os from 'os';
import { scanDataset, ScanReport } from '@kdsr/data';
import { openDatasetPath } from '../dataset-path';
import { withProgress } from '../progress';

export async function scan(location: string, options: { workers?: number }): Promise<ScanReport> {
  const dataset = await openDatasetPath(location);
  const { report } = await withProgress('scan', (onProgress) => scanDataset(dataset, { workers: options.workers ?? Math.max(1, os.cpus().length - 1), onProgress }));
  return report;
}

export function formatScanReport(location: string, report: ScanReport): string {
  return [
    `${location}: ${report.valid} of ${report.total} images readable${report.minSize ? `, smallest ${report.minSize[0]}x${report.minSize[1]} (HxW)` : ''} (${report.seconds.toFixed(1)} s)`,
    ...report.corrupt.map((c) => `unreadable: ${c.message}`),
  ].join('\n');
}
