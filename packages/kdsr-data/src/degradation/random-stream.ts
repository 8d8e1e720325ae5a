// A seeded position in the engine's Philox stream. Every draw is a pure function of (seed, offset,
// size), so a degradation is reproducible from its seed; each draw advances the offset past the
// blocks it used, and fork() derives independent streams (other keys) for workers or samples.
import { DType, randomNormal, randomPoisson, randomStreamBlocks, randomUniform, Tensor } from '@kdsr/cuda';

const MASK64 = (1n << 64n) - 1n;

/** SplitMix64's finaliser: a bijective mix of 64 bits. */
function mix64(z: bigint): bigint {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

export class RandomStream {
  private offset: number;

  constructor(
    readonly seed: number,
    offset = 0,
  ) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`RandomStream: seed must be a non-negative integer, got ${seed}`);
    this.offset = offset;
  }

  /** The next Philox block this stream will use. */
  get position(): number {
    return this.offset;
  }

  /** n uniform values in [low, high) on the host (float64). */
  uniform(n: number, low = 0, high = 1): Float64Array {
    if (n === 0) return new Float64Array(0);
    const t = randomUniform([n], { seed: this.seed, offset: this.offset, low, high, dtype: 'float64' });
    this.offset += randomStreamBlocks(n);
    try {
      return t.toArray() as Float64Array;
    } finally {
      t.dispose();
    }
  }

  /** One uniform value in [low, high). */
  uniform1(low = 0, high = 1): number {
    return this.uniform(1, low, high)[0];
  }

  /** A uniform integer in [0, n). */
  integer(n: number): number {
    return Math.min(Math.floor(this.uniform1() * n), n - 1);
  }

  /** Index drawn with the given probabilities (which sum to 1). */
  choice(probabilities: readonly number[]): number {
    const u = this.uniform1();
    let acc = 0;
    for (let i = 0; i < probabilities.length; i++) {
      acc += probabilities[i];
      if (u < acc) return i;
    }
    return probabilities.length - 1;
  }

  /** A tensor of standard normal values (engine-side). */
  normal(shape: readonly number[], options: { dtype?: DType; device?: string; mean?: number; std?: number } = {}): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    const t = randomNormal(shape, { seed: this.seed, offset: this.offset, ...options });
    this.offset += randomStreamBlocks(size);
    return t;
  }

  /** A tensor of uniform values in [low, high) (engine-side). */
  uniformTensor(shape: readonly number[], options: { dtype?: DType; device?: string; low?: number; high?: number } = {}): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    const t = randomUniform(shape, { seed: this.seed, offset: this.offset, ...options });
    this.offset += randomStreamBlocks(size);
    return t;
  }

  /** Poisson counts with the given rates (engine-side; same shape and dtype). */
  poisson(rate: Tensor): Tensor {
    const t = randomPoisson(rate, { seed: this.seed, offset: this.offset });
    // random_poisson's counters carry their own tag, apart from the uniform blocks; advancing by the
    // element count keeps successive Poisson draws disjoint.
    this.offset += rate.size;
    return t;
  }

  /** An independent stream for child `index` (a different Philox key), e.g. one per image or worker. */
  fork(index: number): RandomStream {
    if (!Number.isSafeInteger(index) || index < 0) throw new Error(`RandomStream.fork: index must be a non-negative integer, got ${index}`);
    // Hash (seed, index) to a new 53-bit key: distinct children and grandchildren get unrelated keys.
    const h = mix64((mix64(BigInt(this.seed) + 0x9e3779b97f4a7c15n) + BigInt(index)) & MASK64);
    return new RandomStream(Number(h & ((1n << 53n) - 1n)));
  }
}
