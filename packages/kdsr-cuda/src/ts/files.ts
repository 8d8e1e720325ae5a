// Writing files so that nothing is lost: folders created with a one-line error (Node's recursive
// mkdir spins forever under /proc), and outputs written to a temporary file in the same folder,
// flushed and renamed over the target, so that a reader (or a resumed run) sees either the old
// complete file or the new complete file, never a truncated one. Temporary files still open are
// tracked so that signal handlers can remove them before the process exits.
import * as fs from 'fs';
import * as path from 'path';

// Also matches '.<name>.<pid>.tmp', the temporary files of earlier versions.
const TEMPORARY = /^\.(.+?)\.(\d+)(?:\.\d+)?\.tmp$/;
const pending = new Set<string>();
let counter = 0;

const REASONS: Record<string, string> = {
  EEXIST: 'a file of that name exists',
  ENOTDIR: 'a file stands where a parent folder should be',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  ENOENT: 'this file system does not allow new folders there',
};

/** Creates `dir` and its missing parents; a failure is one error naming the folder that could not be made. */
export function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (e.code === 'EEXIST' && fs.statSync(d).isDirectory()) continue;
      throw new Error(`Cannot create the folder ${d}: ${REASONS[e.code ?? ''] ?? e.message}`);
    }
  }
  if (!fs.statSync(dir).isDirectory()) throw new Error(`Cannot create the folder ${dir}: a file of that name exists`);
}

/** The name of a temporary file beside `file` (hidden, with this process's id, ending in .tmp). */
export function temporaryPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${counter++}.tmp`);
}

/**
 * Writes `file` atomically: `write` fills a temporary file beside it, which is flushed to disk and
 * renamed over `file`. The folder is created if needed; on failure the temporary file is removed.
 */
export async function writeFileAtomic(file: string, write: (temporary: string) => Promise<void> | void): Promise<void> {
  makeDirectory(path.dirname(file));
  const temporary = temporaryPath(file);
  pending.add(temporary);
  try {
    await write(temporary);
    commit(temporary, file);
  } finally {
    removeQuietly(temporary);
    pending.delete(temporary);
  }
}

/** writeFileAtomic for data in memory, synchronously. */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  makeDirectory(path.dirname(file));
  const temporary = temporaryPath(file);
  pending.add(temporary);
  try {
    fs.writeFileSync(temporary, data);
    commit(temporary, file);
  } finally {
    removeQuietly(temporary);
    pending.delete(temporary);
  }
}

function commit(temporary: string, file: string): void {
  const fd = fs.openSync(temporary, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
}

function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // already renamed or never created
  }
}

/** Removes the temporary files this process is writing (for SIGINT/SIGTERM handlers, before exiting). */
export function removeTemporaryFiles(): void {
  for (const file of pending) removeQuietly(file);
  pending.clear();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary files in `dir` left by processes that no longer run (killed while writing); returns their names. */
export function removeStaleTemporaryFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    const m = TEMPORARY.exec(name);
    if (!m || Number(m[2]) === process.pid || alive(Number(m[2]))) continue;
    removeQuietly(path.join(dir, name));
    removed.push(name);
  }
  return removed;
}
