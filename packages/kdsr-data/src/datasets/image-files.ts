// Finding image files: recursive folder listing with an extension filter, in a stable order.
import { promises as fs } from 'fs';
import * as path from 'path';
import { IMAGE_EXTENSIONS } from '../image/io';

export interface ListOptions {
  /** Descend into sub-folders (default true). */
  recursive?: boolean;
  /** Lower-case extensions with the dot (default: every format the decoder reads). */
  extensions?: readonly string[];
}

/** Image files under `dir`, as paths relative to it, sorted (byte order) so listings are reproducible. */
export async function listImageFiles(dir: string, options: ListOptions = {}): Promise<string[]> {
  const recursive = options.recursive ?? true;
  const extensions = new Set((options.extensions ?? Object.keys(IMAGE_EXTENSIONS)).map((e) => e.toLowerCase()));
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    let entries;
    try {
      entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    } catch (error) {
      throw new Error(`Cannot list images in ${path.join(dir, rel)}: ${(error as Error).message}`);
    }
    for (const e of entries) {
      const child = rel ? path.join(rel, e.name) : e.name;
      // A link counts as what it points to; a broken one as a file, so that reading it reports it.
      const target = e.isSymbolicLink() ? await fs.stat(path.join(dir, child)).catch(() => null) : e;
      if (target?.isDirectory()) {
        if (recursive) await walk(child);
      } else if ((target === null || target.isFile()) && extensions.has(path.extname(e.name).toLowerCase())) out.push(child);
    }
  }
  await walk('');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
