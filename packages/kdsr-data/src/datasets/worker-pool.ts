// A pool of decoding workers (worker_threads). Each task goes to the least busy worker; results
// come back as promises. Decoding (libvips) and cropping run off the main thread.
import { Worker } from 'worker_threads';
import { Dataset } from './dataset';
import { PatchSpec } from './patch';
import { SampleResult } from './sample-decoder';
import { workerScript } from './worker-script';

interface Slot {
  worker: Worker;
  busy: number;
}

export class DecodePool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, { resolve: (r: SampleResult) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | null = null;

  constructor(dataset: Dataset, size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`DecodePool: size must be a positive integer, got ${size}`);
    const script = workerScript('decode-worker.js');
    for (let i = 0; i < size; i++) {
      const worker = new Worker(script);
      const slot: Slot = { worker, busy: 0 };
      // Idle workers do not keep the process alive (a forgotten close() cannot hang the program).
      worker.unref();
      worker.on('message', ({ id, result }: { id: number; result: SampleResult }) => {
        if (--slot.busy === 0) worker.unref();
        const p = this.pending.get(id);
        this.pending.delete(id);
        p?.resolve(result);
      });
      worker.on('error', (error) => this.fail(new Error(`decode worker failed: ${error.message}`)));
      worker.postMessage({ type: 'init', dataset });
      this.slots.push(slot);
    }
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  get size(): number {
    return this.slots.length;
  }

  sample(index: number, patch: PatchSpec | null): Promise<SampleResult> {
    if (this.failure) return Promise.reject(this.failure);
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    if (slot.busy++ === 0) slot.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ type: 'sample', id, index, patch });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }
}
