// Dataset scan: decode every item once, report the ones that fail (corrupt, truncated, unsupported,
// LR/HR size mismatch) and return the dataset without them.
import * as os from 'os';
import { Dataset, datasetLength, selectItems } from './dataset';
import { DecodePool } from './worker-pool';

export interface ScanReport {
  total: number;
  valid: number;
  corrupt: Array<{ name: string; message: string }>;
  /** Smallest height and width seen among valid items. */
  minSize: [number, number] | null;
  seconds: number;
}

export interface ScanOptions {
  /** Decoding workers (default: CPU count - 1, at least 1). */
  workers?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function scanDataset<D extends Dataset>(dataset: D, options: ScanOptions = {}): Promise<{ dataset: D; report: ScanReport }> {
  const start = process.hrtime.bigint();
  const n = datasetLength(dataset);
  const pool = new DecodePool(dataset, options.workers ?? Math.max(1, os.cpus().length - 1));
  const valid: number[] = [];
  const corrupt: ScanReport['corrupt'] = [];
  let minSize: [number, number] | null = null;
  let done = 0;
  try {
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        pool.sample(i, null).then((r) => {
          options.onProgress?.(++done, n);
          return r;
        }),
      ),
    );
    results.forEach((r, i) => {
      if (r.status === 'ok') {
        valid.push(i);
        minSize = minSize ? [Math.min(minSize[0], r.hr.height), Math.min(minSize[1], r.hr.width)] : [r.hr.height, r.hr.width];
      } else if (r.status === 'error') corrupt.push({ name: r.name, message: r.message });
    });
  } finally {
    await pool.close();
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { dataset: selectItems(dataset, valid), report: { total: n, valid: valid.length, corrupt, minSize, seconds } };
}
