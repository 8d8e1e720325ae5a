// Worker-thread side of PrefetchingSource: a TrainingSource whose batches go to the main thread as
// float32 arrays (transferred, not copied), each with the source's position after it. Messages are
// handled one at a time, in order. In: {type: 'init', options, threads} once, then {type: 'next', id}
// and {type: 'restore', state}, and {type: 'close'} last; out: {id, lr, hr, state} or {id, error},
// and {type: 'closed'}.
import { parentPort } from 'worker_threads';
import { setNumThreads, Tensor } from '@kdsr/cuda';
import { ClassicSampler } from '../degradation/samplers';
import type { PrefetchedBatch, WorkerSourceOptions } from './prefetching-source';
import { TrainingSource } from './training-source';

type Request =
  | { type: 'init'; options: WorkerSourceOptions; threads: number }
  | { type: 'next'; id: number }
  | { type: 'restore'; state: unknown }
  | { type: 'close' };

let source: TrainingSource | null = null;
let queue: Promise<void> = Promise.resolve();

function array(t: Tensor): { data: Float32Array; shape: number[] } {
  const data = t.toFloat32Array();
  const shape = [...t.shape];
  t.dispose();
  return { data, shape };
}

async function handle(request: Request): Promise<void> {
  if (request.type === 'init') {
    // Our kernels give the same bits on any number of threads; one keeps the cores for the training step.
    setNumThreads(request.threads);
    const { sampler, ...rest } = request.options;
    source = new TrainingSource({ ...rest, sampler: sampler ? new ClassicSampler(sampler) : undefined });
  } else if (request.type === 'next') {
    try {
      const { lr, hr } = await source!.nextBatch();
      const batch: PrefetchedBatch = { id: request.id, lr: array(lr), hr: array(hr), state: source!.saveState() };
      parentPort!.postMessage(batch, [batch.lr.data.buffer as ArrayBuffer, batch.hr.data.buffer as ArrayBuffer]);
    } catch (error) {
      parentPort!.postMessage({ id: request.id, error: (error as Error).message });
    }
  } else if (request.type === 'restore') {
    source!.restoreState(request.state);
  } else {
    await source?.close();
    parentPort!.postMessage({ type: 'closed' });
  }
}

parentPort!.on('message', (request: Request) => {
  queue = queue.then(() => handle(request));
});
