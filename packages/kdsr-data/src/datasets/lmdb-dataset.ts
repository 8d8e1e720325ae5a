// LMDB packing (as BasicSR's create_lmdb): every image of a folder, optionally cut into overlapping
// sub-images (BasicSR extract_subimages: crop size, step, threshold), stored PNG-encoded under a key;
// a metadata entry lists the keys. Reading many small sub-images from one memory-mapped file is much
// faster than decoding large PNGs.
import { promises as fs } from 'fs';
import * as path from 'path';
import { open, RootDatabase } from 'lmdb';
import { decodeRaw, encodeImage, rawToFloat, Region } from '../image/io';
import { LmdbDataset } from './dataset';
import { listImageFiles, ListOptions } from './image-files';

const META_KEY = '__kdsr_meta__';
const FORMAT = 'kdsr-lmdb-v1';

export interface SubImageOptions {
  /** Sub-image side (BasicSR: 480 for DIV2K HR). */
  size: number;
  /** Step between sub-images (BasicSR: 240). */
  step: number;
  /** A last row/column of sub-images flush with the border is added when more than this many pixels remain (default 0). */
  threshold?: number;
}

export interface LmdbBuildOptions extends ListOptions {
  sourceDir: string;
  lmdbPath: string;
  /** Cut images into sub-images (null: store whole images). */
  subImage?: SubImageOptions | null;
  /** PNG compression level of the stored entries (default 1, as BasicSR). */
  compressionLevel?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface LmdbBuildReport {
  images: number;
  entries: number;
  /** Files that could not be decoded (skipped). */
  corrupt: Array<{ file: string; message: string }>;
  bytes: number;
}

interface LmdbMeta {
  format: string;
  keys: string[];
  subImage: SubImageOptions | null;
  source: string;
}

/** Top-left corners of sub-images along one side (BasicSR extract_subimages). Images smaller than size give [0] (whole). */
export function subImageOrigins(length: number, size: number, step: number, threshold = 0): number[] {
  if (length <= size) return [0];
  const origins: number[] = [];
  for (let o = 0; o <= length - size; o += step) origins.push(o);
  if (length - (origins[origins.length - 1] + size) > threshold) origins.push(length - size);
  return origins;
}

/** Packs a folder into an LMDB file; corrupt images are reported and skipped. */
export async function buildLmdb(options: LmdbBuildOptions): Promise<LmdbBuildReport> {
  const files = await listImageFiles(options.sourceDir, options);
  if (files.length === 0) throw new Error(`buildLmdb: no images under ${options.sourceDir}`);
  const db = open({ path: options.lmdbPath, encoding: 'binary', compression: false });
  const report: LmdbBuildReport = { images: 0, entries: 0, corrupt: [], bytes: 0 };
  const keys: string[] = [];
  const sub = options.subImage ?? null;
  try {
    for (let n = 0; n < files.length; n++) {
      const rel = files[n];
      const file = path.join(options.sourceDir, rel);
      let raw;
      try {
        raw = await decodeRaw(await fs.readFile(file), file);
      } catch (error) {
        report.corrupt.push({ file, message: (error as Error).message });
        continue;
      }
      const stem = rel.slice(0, rel.length - path.extname(rel).length).split(path.sep).join('/');
      const regions: Region[] = [];
      if (sub) {
        for (const top of subImageOrigins(raw.height, sub.size, sub.step, sub.threshold))
          for (const left of subImageOrigins(raw.width, sub.size, sub.step, sub.threshold))
            regions.push({ top, left, height: Math.min(sub.size, raw.height), width: Math.min(sub.size, raw.width) });
      } else regions.push({ top: 0, left: 0, height: raw.height, width: raw.width });
      const writes: Array<Promise<boolean>> = [];
      for (let r = 0; r < regions.length; r++) {
        const key = sub ? `${stem}_s${String(r + 1).padStart(3, '0')}` : stem;
        const png = await encodeImage(rawToFloat(raw, regions[r]).rgb, 'png', { bitDepth: raw.info.bitDepth, compressionLevel: options.compressionLevel ?? 1 });
        writes.push(db.put(key, png));
        keys.push(key);
        report.bytes += png.length;
      }
      await Promise.all(writes);
      report.images++;
      report.entries += regions.length;
      options.onProgress?.(n + 1, files.length);
    }
    const meta: LmdbMeta = { format: FORMAT, keys, subImage: sub, source: path.resolve(options.sourceDir) };
    await db.put(META_KEY, Buffer.from(JSON.stringify(meta)));
  } finally {
    await db.close();
  }
  return report;
}

/** Opens the LMDB at `lmdbPath` read-only. */
export function openLmdbReadOnly(lmdbPath: string): RootDatabase<Buffer, string> {
  try {
    return open({ path: lmdbPath, encoding: 'binary', readOnly: true, compression: false }) as RootDatabase<Buffer, string>;
  } catch (error) {
    throw new Error(`Cannot open LMDB ${lmdbPath}: ${(error as Error).message}`);
  }
}

/** The dataset descriptor of a packed LMDB (keys from its metadata entry). */
export async function openLmdbDataset(lmdbPath: string): Promise<LmdbDataset> {
  const db = openLmdbReadOnly(lmdbPath);
  try {
    const raw = db.getBinary(META_KEY);
    if (!raw) throw new Error(`Cannot open LMDB ${lmdbPath}: no '${META_KEY}' entry (not built by buildLmdb)`);
    const meta = JSON.parse(Buffer.from(raw).toString('utf8')) as LmdbMeta;
    if (meta.format !== FORMAT) throw new Error(`Cannot open LMDB ${lmdbPath}: unknown format '${meta.format}'`);
    return { kind: 'lmdb', path: lmdbPath, keys: meta.keys };
  } finally {
    await db.close();
  }
}

/** Reads the encoded bytes of an LMDB item. */
export function readLmdbItem(db: RootDatabase<Buffer, string>, d: LmdbDataset, i: number): { bytes: Buffer; name: string } {
  const name = `${d.path}:${d.keys[i]}`;
  const bytes = db.getBinary(d.keys[i]);
  if (!bytes) throw new Error(`Cannot read image ${name}: missing LMDB entry`);
  return { bytes: Buffer.from(bytes), name };
}
