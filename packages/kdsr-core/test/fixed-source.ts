// Data sources for tests: the same batch every time, or a seeded stream of random batches whose
// position is its state (so that resume tests can check exact continuation).
import { Tensor } from '@kdsr/cuda';
import type { Batch, DataSource } from '../src/train/data-source';
import { randomArray } from './helpers';

export class FixedSource implements DataSource {
  served = 0;

  constructor(
    private readonly lr: Tensor,
    private readonly hr: Tensor,
  ) {}

  nextBatch(): Batch {
    this.served++;
    return { lr: this.lr.to(this.lr.device), hr: this.hr.to(this.hr.device) };
  }

  saveState(): unknown {
    return { served: this.served };
  }

  restoreState(state: unknown): void {
    this.served = (state as { served: number }).served;
  }
}

export class SeededSource implements DataSource {
  private index = 0;

  constructor(
    private readonly batch: number,
    private readonly lrSize: number,
    private readonly scale: number,
    private readonly seed = 1,
  ) {}

  nextBatch(): Batch {
    const i = this.index++;
    const h = this.lrSize * this.scale;
    const hrData = randomArray(this.batch * 3 * h * h, this.seed * 1000003 + i, 0, 1);
    // LR: the s x s box average of the HR, so that LR and HR are related as in real data.
    const s = this.scale;
    const lrData = new Float32Array(this.batch * 3 * this.lrSize * this.lrSize);
    for (let p = 0; p < this.batch * 3; p++)
      for (let y = 0; y < this.lrSize; y++)
        for (let x = 0; x < this.lrSize; x++) {
          let sum = 0;
          for (let u = 0; u < s; u++) for (let v = 0; v < s; v++) sum += hrData[(p * h + y * s + u) * h + x * s + v];
          lrData[(p * this.lrSize + y) * this.lrSize + x] = sum / (s * s);
        }
    return {
      lr: Tensor.fromArray(lrData, [this.batch, 3, this.lrSize, this.lrSize]),
      hr: Tensor.fromArray(Float32Array.from(hrData), [this.batch, 3, h, h]),
    };
  }

  saveState(): unknown {
    return { index: this.index };
  }

  restoreState(state: unknown): void {
    this.index = (state as { index: number }).index;
  }
}
