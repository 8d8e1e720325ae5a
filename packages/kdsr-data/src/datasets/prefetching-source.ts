// Training batches made ahead, in a worker thread: a TrainingSource with the same options runs
// there (prefetch-worker.ts), so the degradation synthesis and assembly of the next batch overlap
// the training step of the current one instead of delaying it. The batches are those of
// TrainingSource bit for bit (its kernels give the same bits on any number of threads). The
// position (saveState) is that after the last batch handed out, not after the batches made
// ahead, so a checkpoint resumes exactly; restoreState drops what was made ahead. Like
// TrainingSource it is @kdsr/core's DataSource, met structurally.
import { Worker } from 'worker_threads';
import { Tensor } from '@kdsr/cuda';
import type { ClassicSamplerOptions } from '../degradation/samplers';
import { TrainingSource, TrainingSourceOptions, TrainingSourceState } from './training-source';
import { workerScript } from './worker-script';

export interface PrefetchingSourceOptions extends TrainingSourceOptions {
  /** Batches made ahead of use (default 1). */
  ahead?: number;
  /** CPU threads of the worker's kernels (default 1, leaving the others to the training step). */
  threads?: number;
}

/** TrainingSourceOptions in the form that crosses to the worker (the sampler as its options). */
export type WorkerSourceOptions = Omit<TrainingSourceOptions, 'sampler'> & { sampler?: ClassicSamplerOptions };

/** A batch as the worker sends it. */
export interface PrefetchedBatch {
  id: number;
  lr: { data: Float32Array; shape: number[] };
  hr: { data: Float32Array; shape: number[] };
  /** The source's position after this batch. */
  state: TrainingSourceState;
}

type Reply = PrefetchedBatch | { id: number; error: string } | { type: 'closed' };

export class PrefetchingSource {
  /** Checks options and positions on this thread and gives the state before any batch; it never makes batches. */
  private readonly local: TrainingSource;
  private readonly worker: Worker;
  private readonly ahead: number;
  private readonly device: string;
  private state: TrainingSourceState;
  private readonly queued: Array<Promise<PrefetchedBatch>> = [];
  private readonly waiting = new Map<number, { resolve: (b: PrefetchedBatch) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | null = null;
  private onClosed: (() => void) | null = null;

  constructor(options: PrefetchingSourceOptions) {
    const { ahead = 1, threads = 1, ...sourceOptions } = options;
    for (const [name, v] of Object.entries({ ahead, threads }))
      if (!Number.isInteger(v) || v < 1) throw new Error(`PrefetchingSource: ${name} must be a positive integer, got ${v}`);
    this.local = new TrainingSource(sourceOptions);
    this.state = this.local.saveState();
    this.ahead = ahead;
    this.device = options.device ?? 'cpu';
    this.worker = new Worker(workerScript('prefetch-worker.js'));
    // An idle worker does not keep the process alive (a forgotten close() cannot hang the program).
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.receive(reply));
    this.worker.on('error', (error) => this.fail(new Error(`training data worker failed: ${error.message}`)));
    const { sampler, ...rest } = sourceOptions;
    const workerOptions: WorkerSourceOptions = { ...rest, sampler: sampler?.options };
    this.worker.postMessage({ type: 'init', options: workerOptions, threads });
  }

  /** The next batch: lr (B, 3, P, P) and hr (B, 3, sP, sP) in [0, 1], owned by the caller. */
  async nextBatch(): Promise<{ lr: Tensor; hr: Tensor }> {
    // Yield to the event loop first. A batch's reply usually arrives while the caller's step runs;
    // without this, the caller's next step would run inside the delivery of that reply, the next
    // reply would be queued meanwhile, and so on: the loop would never get to signals (SIGTERM
    // ignored) or timers.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.fill();
    const batch = await this.queued.shift()!;
    this.fill();
    this.state = batch.state;
    return {
      lr: Tensor.fromArray(batch.lr.data, batch.lr.shape, { device: this.device }),
      hr: Tensor.fromArray(batch.hr.data, batch.hr.shape, { device: this.device }),
    };
  }

  /** The position after the last batch handed out (JSON), as TrainingSource.saveState() gives it. */
  saveState(): TrainingSourceState {
    return { ...this.state, stream: { ...this.state.stream } };
  }

  /** Continues from a saveState() value; refuses a position of another stream, as TrainingSource does. */
  restoreState(state: unknown): void {
    this.local.restoreState(state);
    this.state = this.local.saveState();
    this.dropQueued();
    this.worker.postMessage({ type: 'restore', state: this.state });
  }

  /** Stops the worker (and its decoding workers). */
  async close(): Promise<void> {
    this.dropQueued();
    if (!this.failure) {
      const closed = new Promise<void>((resolve) => (this.onClosed = resolve));
      this.worker.ref();
      this.worker.postMessage({ type: 'close' });
      await closed;
    }
    await this.worker.terminate();
  }

  private fill(): void {
    while (this.queued.length < this.ahead) this.queued.push(this.request());
  }

  private request(): Promise<PrefetchedBatch> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    if (this.waiting.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'next', id });
    });
  }

  private receive(reply: Reply): void {
    if ('type' in reply) {
      this.onClosed?.();
      return;
    }
    const waiter = this.waiting.get(reply.id);
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker.unref();
    if ('error' in reply) waiter?.reject(new Error(reply.error));
    else waiter?.resolve(reply);
  }

  /** Forgets the batches made ahead (their replies still arrive and are ignored). */
  private dropQueued(): void {
    for (const p of this.queued.splice(0)) p.catch(() => undefined);
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const w of this.waiting.values()) w.reject(error);
    this.waiting.clear();
    this.onClosed?.();
  }
}
