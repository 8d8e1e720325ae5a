// Parameter initialisation like PyTorch's defaults, drawn from the engine's seeded Philox stream so
// that the same seed gives the same weights on every device. Conv2d / Linear weights:
// kaiming_uniform(a = sqrt(5)) = U(-b, b) with b = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + a^2)),
// i.e. b = 1 / sqrt(fan_in); biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
import { DType, randomStreamBlocks, randomUniform, Tensor } from '@kdsr/cuda';

export interface InitializerOptions {
  seed?: number;
  device?: string;
  dtype?: DType;
}

/** Hands out consecutive, non-overlapping pieces of one Philox stream (seed, counter offset). */
export class Initializer {
  readonly seed: number;
  readonly device: string;
  readonly dtype: DType;
  private offset = 0;

  constructor(options: InitializerOptions = {}) {
    this.seed = options.seed ?? 0;
    this.device = options.device ?? 'cpu';
    this.dtype = options.dtype ?? 'float32';
  }

  uniform(shape: readonly number[], bound: number): Tensor {
    const t = randomUniform(shape, { seed: this.seed, offset: this.offset, low: -bound, high: bound, device: this.device, dtype: this.dtype });
    this.offset += randomStreamBlocks(t.size); // the next tensor continues the stream
    return t;
  }

  /** A tensor holding the given values (fixed parameters such as the mean shifts). */
  constant(values: readonly number[], shape: readonly number[]): Tensor {
    const data = this.dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values);
    return Tensor.fromArray(data, shape, { device: this.device, dtype: this.dtype });
  }
}

/** kaiming_uniform(a = sqrt(5)) bound for a weight with this fan-in: 1 / sqrt(fan_in). */
export function defaultBound(fanIn: number): number {
  const a = Math.sqrt(5);
  const gain = Math.sqrt(2 / (1 + a * a));
  return gain * Math.sqrt(3 / fanIn);
}
