// Dataset descriptors: plain, serialisable lists of where each image is, so the same description
// can be handed to decoding workers. Three kinds: an HR folder, paired HR/LR folders, an LMDB file.
import { promises as fs } from 'fs';
import * as path from 'path';
import { IMAGE_EXTENSIONS } from '../image/io';
import { listImageFiles, ListOptions } from './image-files';

export interface FolderDataset {
  kind: 'folder';
  root: string;
  /** Paths relative to root. */
  files: string[];
}

export interface PairedDataset {
  kind: 'paired';
  hrRoot: string;
  lrRoot: string;
  /** HR size = LR size × scale. */
  scale: number;
  pairs: Array<{ hr: string; lr: string }>;
}

export interface LmdbDataset {
  kind: 'lmdb';
  path: string;
  keys: string[];
}

export type Dataset = FolderDataset | PairedDataset | LmdbDataset;

export function datasetLength(d: Dataset): number {
  return d.kind === 'folder' ? d.files.length : d.kind === 'paired' ? d.pairs.length : d.keys.length;
}

/** A readable name of item i (file path or LMDB key) for reports and errors. */
export function itemName(d: Dataset, i: number): string {
  if (d.kind === 'folder') return path.join(d.root, d.files[i]);
  if (d.kind === 'paired') return path.join(d.hrRoot, d.pairs[i].hr);
  return `${d.path}:${d.keys[i]}`;
}

/** The same dataset restricted to the given item indices (in that order). */
export function selectItems<D extends Dataset>(d: D, indices: readonly number[]): D {
  if (d.kind === 'folder') return { ...d, files: indices.map((i) => d.files[i]) };
  if (d.kind === 'paired') return { ...d, pairs: indices.map((i) => d.pairs[i]) };
  return { ...d, keys: indices.map((i) => (d as LmdbDataset).keys[i]) };
}

/** Every image under an HR folder (recursive by default, filtered by extension). */
export async function openHrFolder(root: string, options: ListOptions = {}): Promise<FolderDataset> {
  const files = await listImageFiles(root, options);
  if (files.length === 0) throw new Error(`no images in ${root} (looked for ${(options.extensions ?? Object.keys(IMAGE_EXTENSIONS)).join(', ')} files${options.recursive === false ? '' : ', in sub-folders too'})`);
  return { kind: 'folder', root, files };
}

export interface PairedOptions extends ListOptions {
  /** Text between the HR stem and the LR extension, e.g. 'x4' for baby.png -> babyx4.png (default ''). */
  lrSuffix?: string;
}

/**
 * Pairs every HR image with the LR image of the same relative path and stem (plus lrSuffix) in
 * lrRoot, whatever its image extension. Missing LR files are an error naming them.
 */
export async function openPairedFolders(hrRoot: string, lrRoot: string, scale: number, options: PairedOptions = {}): Promise<PairedDataset> {
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`openPairedFolders: scale must be a positive integer, got ${scale}`);
  const hrFiles = await listImageFiles(hrRoot, options);
  if (hrFiles.length === 0) throw new Error(`openPairedFolders: no images under ${hrRoot}`);
  const lrFiles = await listImageFiles(lrRoot, { recursive: options.recursive, extensions: options.extensions ?? Object.keys(IMAGE_EXTENSIONS) });
  const byStem = new Map<string, string>();
  for (const f of lrFiles) byStem.set(f.slice(0, f.length - path.extname(f).length), f);
  const suffix = options.lrSuffix ?? '';
  const pairs: Array<{ hr: string; lr: string }> = [];
  const missing: string[] = [];
  for (const hr of hrFiles) {
    const stem = hr.slice(0, hr.length - path.extname(hr).length) + suffix;
    const lr = byStem.get(stem);
    if (lr) pairs.push({ hr, lr });
    else missing.push(path.join(lrRoot, stem + '.*'));
  }
  if (missing.length > 0)
    throw new Error(`openPairedFolders: ${missing.length} HR image(s) have no LR partner, e.g. ${missing.slice(0, 3).join(', ')}`);
  return { kind: 'paired', hrRoot, lrRoot, scale, pairs };
}

/** Reads the encoded bytes of a folder item. */
export async function readFolderItem(d: FolderDataset | PairedDataset, i: number, which: 'hr' | 'lr' = 'hr'): Promise<{ bytes: Buffer; name: string }> {
  const name = d.kind === 'folder' ? path.join(d.root, d.files[i]) : which === 'hr' ? path.join(d.hrRoot, d.pairs[i].hr) : path.join(d.lrRoot, d.pairs[i].lr);
  try {
    return { bytes: await fs.readFile(name), name };
  } catch (error) {
    throw new Error(`Cannot read image ${name}: ${(error as Error).message}`);
  }
}
