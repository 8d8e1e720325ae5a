// The training-pair pool of Real-ESRGAN / KDSR-GAN (spec 2.11): because many degradation choices
// are per batch, batches are mixed through a pool of Q pairs. While filling, batches pass through
// unchanged and are stored; once full, the pool is shuffled, its first b pairs are returned and
// replaced by the incoming batch.
import { Tensor } from '@kdsr/cuda';
import { RandomStream } from '../degradation/random-stream';

export class TrainingPairPool {
  private lq: Float32Array | null = null;
  private gt: Float32Array | null = null;
  private lqShape: number[] = [];
  private gtShape: number[] = [];
  private filled = 0;

  /** size Q must be a multiple of the batch size b. */
  constructor(
    readonly size: number,
    readonly batch: number,
  ) {
    if (!Number.isInteger(size) || !Number.isInteger(batch) || batch < 1 || size < batch || size % batch !== 0)
      throw new Error(`TrainingPairPool: the pool size ${size} must be a positive multiple of the batch size ${batch}`);
  }

  /** Pairs stored so far. */
  get count(): number {
    return this.filled;
  }

  /** Takes a batch (lq, gt) and returns the batch to train on (new tensors). */
  exchange(lq: Tensor, gt: Tensor, stream: RandomStream): { lq: Tensor; gt: Tensor } {
    if (lq.shape[0] !== this.batch || gt.shape[0] !== this.batch) throw new Error(`TrainingPairPool: expected batches of ${this.batch}, got ${lq.shape[0]} and ${gt.shape[0]}`);
    const lqPer = lq.size / this.batch;
    const gtPer = gt.size / this.batch;
    if (!this.lq) {
      this.lqShape = lq.shape.slice(1);
      this.gtShape = gt.shape.slice(1);
      this.lq = new Float32Array(this.size * lqPer);
      this.gt = new Float32Array(this.size * gtPer);
    } else if (lq.shape.slice(1).join(',') !== this.lqShape.join(',') || gt.shape.slice(1).join(',') !== this.gtShape.join(','))
      throw new Error('TrainingPairPool: pair shapes changed');
    const lqData = lq.toFloat32Array();
    const gtData = gt.toFloat32Array();
    const make = (data: Float32Array, shape: number[]) => Tensor.fromArray(data, [this.batch, ...shape], { device: lq.device });
    if (this.filled < this.size) {
      this.lq.set(lqData, this.filled * lqPer);
      this.gt!.set(gtData, this.filled * gtPer);
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
    const lqPool = new Float32Array(this.lq.length);
    const gtPool = new Float32Array(this.gt!.length);
    order.forEach((src, dst) => {
      lqPool.set(this.lq!.subarray(src * lqPer, (src + 1) * lqPer), dst * lqPer);
      gtPool.set(this.gt!.subarray(src * gtPer, (src + 1) * gtPer), dst * gtPer);
    });
    const out = { lq: make(lqPool.slice(0, this.batch * lqPer), this.lqShape), gt: make(gtPool.slice(0, this.batch * gtPer), this.gtShape) };
    lqPool.set(lqData, 0);
    gtPool.set(gtData, 0);
    this.lq = lqPool;
    this.gt = gtPool;
    return out;
  }
}
