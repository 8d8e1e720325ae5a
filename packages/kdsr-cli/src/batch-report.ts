// Folder runs finish: each input that fails is reported with its path and reason and the run goes
// on; a summary line ends the run, and the exit code is 1 when anything failed.
export class BatchReport {
  readonly failures: Array<{ file: string; reason: string }> = [];
  done = 0;

  /** Runs one item's work; a failure is reported on stderr and recorded instead of thrown. */
  async item(file: string, work: () => Promise<void> | void, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<boolean> {
    try {
      await work();
      this.done++;
      return true;
    } catch (error) {
      this.fail(file, (error as Error).message, log);
      return false;
    }
  }

  fail(file: string, reason: string, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): void {
    this.failures.push({ file, reason });
    log(`failed: ${reason.includes(file) ? reason : `${file}: ${reason}`}`);
  }

  /** '12 upscaled, 1 failed' (and the exit code 1 when something failed). */
  summary(verb: string): string {
    if (this.failures.length > 0) process.exitCode = 1;
    return `${this.done} ${verb}${this.failures.length > 0 ? `, ${this.failures.length} failed` : ''}`;
  }
}
