// `kdsr pack-lmdb`: an image folder into one LMDB file, optionally cut into sub-images (@kdsr/data).
import * as fs from 'fs';
import * as path from 'path';
import { makeDirectory } from '@kdsr/cuda';
import { buildLmdb } from '@kdsr/data';
import { withProgress } from '../progress';

export interface PackLmdbOptions {
  subImages?: { size: number; step: number; threshold: number };
}

export async function packLmdb(folder: string, lmdbPath: string, options: PackLmdbOptions): Promise<string> {
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) throw new Error(`${folder}: no such folder`);
  if (fs.existsSync(lmdbPath)) throw new Error(`${lmdbPath} exists: remove it first (an LMDB is written once)`);
  makeDirectory(path.dirname(path.resolve(lmdbPath)));
  const report = await withProgress('pack-lmdb', (onProgress) => buildLmdb({ sourceDir: folder, lmdbPath, subImage: options.subImages ?? null, onProgress }));
  return [
    `${report.images} images -> ${report.entries} entries in ${lmdbPath} (${(report.bytes / 1e6).toFixed(1)} MB of PNG)`,
    ...report.corrupt.map((c) => `skipped ${c.file}: ${c.message}`),
  ].join('\n');
}
