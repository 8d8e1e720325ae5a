// Makes batches of a PatchLoader again, given where each began: (epoch, position in the epoch's
// order, batch number). Crops come from (seed, epoch, position), so the batches are the ones first
// made. Batches of one epoch are made in order by one iteration, which steps over short gaps rather
// than starting afresh (a new iteration decodes ahead, and that work is lost when it is dropped).
import { dispose } from '@kdsr/cuda';
import type { Batch, PatchLoader } from './loader';

export interface BatchOrigin {
  epoch: number;
  /** Position in the epoch's order where the batch's first draw was. */
  position: number;
  /** Number of the batch in its epoch. */
  index: number;
}

/** Batches stepped over instead of starting a new iteration. */
const MAX_GAP = 2;

/** Calls `use` with each batch of `origins` made again, in epoch and index order; `use` owns the batch's tensors. */
export async function remakeBatches(loader: PatchLoader, origins: readonly BatchOrigin[], use: (batch: Batch, origin: BatchOrigin) => void): Promise<void> {
  const sorted = [...origins].sort((a, b) => a.epoch - b.epoch || a.index - b.index);
  let iterator: AsyncGenerator<Batch> | null = null;
  let epoch = -1;
  let nextIndex = 0;
  try {
    for (const origin of sorted) {
      if (!iterator || epoch !== origin.epoch || origin.index < nextIndex || origin.index - nextIndex > MAX_GAP) {
        await iterator?.return(undefined);
        iterator = loader.epoch(origin.epoch, { position: origin.position, batches: origin.index });
        epoch = origin.epoch;
      }
      for (;;) {
        const step = await iterator.next();
        if (step.done) throw new Error(`cannot make batch ${origin.index} of epoch ${origin.epoch} again: the epoch ended before it (has the data changed?)`);
        nextIndex = step.value.index + 1;
        if (step.value.index !== origin.index) {
          dispose([step.value.hr, ...(step.value.lr ? [step.value.lr] : [])]);
          continue;
        }
        use(step.value, origin);
        break;
      }
    }
  } finally {
    await iterator?.return(undefined);
  }
}
