// Progress of long work: a cli-progress bar on stderr when stderr is a terminal (pipes, logs and CI
// get no bar), and log lines on stdout (warnings on stderr), printed above the bar without breaking it.
import { SingleBar } from 'cli-progress';

export class Progress {
  private readonly bar: SingleBar | null;

  constructor(format: string, total: number, start = 0, payload: Record<string, unknown> = {}) {
    this.bar = process.stderr.isTTY ? new SingleBar({ format, stream: process.stderr, etaBuffer: 50, fps: 5, barsize: 30 }) : null;
    this.bar?.start(total, start, payload);
  }

  update(value: number, payload?: Record<string, unknown>): void {
    this.bar?.update(value, payload ?? {});
  }

  setTotal(total: number): void {
    this.bar?.setTotal(total);
  }

  log(line: string): void {
    if (this.bar?.isActive) process.stderr.write('\r\x1b[2K');
    process.stdout.write(line + '\n');
    if (this.bar?.isActive) this.bar.render();
  }

  /** A line on stderr (warnings, failures), above the bar. */
  warn(line: string): void {
    if (this.bar?.isActive) process.stderr.write('\r\x1b[2K');
    process.stderr.write(line + '\n');
    if (this.bar?.isActive) this.bar.render();
  }

  stop(): void {
    this.bar?.stop();
  }
}

/** A bar for `total` items counted by a (done, total) callback, as the packages' onProgress options take. */
export async function withProgress<T>(label: string, work: (onProgress: (done: number, total: number) => void) => Promise<T>): Promise<T> {
  const progress = new Progress(`${label} [{bar}] {value}/{total} | {duration_formatted} elapsed | ETA {eta_formatted}`, 0);
  try {
    return await work((done, total) => {
      progress.setTotal(total);
      progress.update(done);
    });
  } finally {
    progress.stop();
  }
}
