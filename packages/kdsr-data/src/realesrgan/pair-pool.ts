// The training-pair pool of Real-ESRGAN / KDSR-GAN (spec 2.11): because many degradation choices
// are per batch, batches are mixed through a pool of Q pairs. While filling, batches pass through
// unchanged and are stored; once full, the pool is shuffled, its first b pairs are returned and
// replaced by the incoming batch. The shuffle reorders an index, not the stored pairs. Each pair
// may carry an origin (what made it), so that a saved pool can be rebuilt by making its pairs again.
import { Tensor } from '@kdsr/cuda';
import { RandomStream } from '../degradation/random-stream';

export class TrainingPairPool<Origin = unknown> {
  private lq: Float32Array | null = null;
  private gt: Float32Array | null = null;
  private lqShape: number[] = [];
  private gtShape: number[] = [];
  private filled = 0;
  /** slots[i]: where pair i of the pool's order is stored. */
  private slots: number[];
  /** The origin of the pair stored at each place. */
  private readonly stored: Array<Origin | undefined>;

  /** size Q must be a multiple of the batch size b. */
  constructor(
    readonly size: number,
    readonly batch: number,
  ) {
    if (!Number.isInteger(size) || !Number.isInteger(batch) || batch < 1 || size < batch || size % batch !== 0)
      throw new Error(`TrainingPairPool: the pool size ${size} must be a positive multiple of the batch size ${batch}`);
    this.slots = Array.from({ length: size }, (_, i) => i);
    this.stored = new Array<Origin | undefined>(size);
  }

  /** Pairs stored so far. */
  get count(): number {
    return this.filled;
  }

  /** The origins of the stored pairs, in the pool's order. */
  origins(): Array<Origin | undefined> {
    return this.slots.slice(0, this.filled).map((place) => this.stored[place]);
  }

  /** Takes a batch (lq, gt) with its pairs' origins and returns the batch to train on (new tensors). */
  exchange(lq: Tensor, gt: Tensor, stream: RandomStream, origins?: readonly Origin[]): { lq: Tensor; gt: Tensor } {
    if (lq.shape[0] !== this.batch || gt.shape[0] !== this.batch) throw new Error(`TrainingPairPool: expected batches of ${this.batch}, got ${lq.shape[0]} and ${gt.shape[0]}`);
    this.allocate(lq.shape.slice(1), gt.shape.slice(1));
    const lqData = lq.toFloat32Array();
    const gtData = gt.toFloat32Array();
    const make = (data: Float32Array, shape: number[]) => Tensor.fromArray(data, [this.batch, ...shape], { device: lq.device });
    if (this.filled < this.size) {
      this.store(this.slots.slice(this.filled, this.filled + this.batch), lqData, gtData, origins);
      this.filled += this.batch;
      return { lq: make(lqData, this.lqShape), gt: make(gtData, this.gtShape) };
    }
    // Shuffle the pool with a uniform random permutation (Fisher-Yates on Philox uniforms).
    const order = Array.from({ length: this.size }, (_, i) => i);
    const u = stream.uniform(this.size);
    for (let i = this.size - 1; i > 0; i--) {
      const j = Math.min(Math.floor(u[i] * (i + 1)), i);
      [order[i], order[j]] = [order[j], order[i]];
    }
    this.slots = order.map((i) => this.slots[i]);
    const out = this.slots.slice(0, this.batch);
    const lqPer = lqData.length / this.batch;
    const gtPer = gtData.length / this.batch;
    const lqOut = new Float32Array(lqData.length);
    const gtOut = new Float32Array(gtData.length);
    out.forEach((place, k) => {
      lqOut.set(this.lq!.subarray(place * lqPer, (place + 1) * lqPer), k * lqPer);
      gtOut.set(this.gt!.subarray(place * gtPer, (place + 1) * gtPer), k * gtPer);
    });
    this.store(out, lqData, gtData, origins);
    return { lq: make(lqOut, this.lqShape), gt: make(gtOut, this.gtShape) };
  }

  /**
   * Refills an empty pool with pairs in the pool's order (what origins() listed, made again):
   * lq (n, ...) and gt (n, ...) with n a multiple of the batch size.
   */
  restore(lq: Tensor, gt: Tensor, origins: readonly Origin[]): void {
    if (this.filled !== 0) throw new Error('TrainingPairPool: restore needs an empty pool');
    const n = lq.shape[0];
    if (gt.shape[0] !== n || origins.length !== n || n % this.batch !== 0 || n > this.size)
      throw new Error(`TrainingPairPool: cannot restore ${lq.shape[0]} LQ / ${gt.shape[0]} GT pairs with ${origins.length} origins into a pool of ${this.size} in batches of ${this.batch}`);
    if (n === 0) return;
    this.allocate(lq.shape.slice(1), gt.shape.slice(1));
    this.store(this.slots.slice(0, n), lq.toFloat32Array(), gt.toFloat32Array(), origins);
    this.filled = n;
  }

  private allocate(lqShape: number[], gtShape: number[]): void {
    if (!this.lq) {
      this.lqShape = lqShape;
      this.gtShape = gtShape;
      this.lq = new Float32Array(this.size * lqShape.reduce((a, b) => a * b, 1));
      this.gt = new Float32Array(this.size * gtShape.reduce((a, b) => a * b, 1));
    } else if (lqShape.join(',') !== this.lqShape.join(',') || gtShape.join(',') !== this.gtShape.join(',')) throw new Error('TrainingPairPool: pair shapes changed');
  }

  /** Stores pair k of (lq, gt) at places[k]. */
  private store(places: number[], lq: Float32Array, gt: Float32Array, origins?: readonly Origin[]): void {
    const lqPer = lq.length / places.length;
    const gtPer = gt.length / places.length;
    places.forEach((place, k) => {
      this.lq!.set(lq.subarray(k * lqPer, (k + 1) * lqPer), place * lqPer);
      this.gt!.set(gt.subarray(k * gtPer, (k + 1) * gtPer), place * gtPer);
      this.stored[place] = origins?.[k];
    });
  }
}
