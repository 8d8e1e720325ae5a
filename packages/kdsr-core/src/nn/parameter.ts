// A trainable (or frozen) tensor of a module. Its value and gradient live outside every tidy scope
// (they are disposed explicitly), and backward() hands it its gradient through the GradSink hook.
import { add, keep, Tensor } from '@kdsr/cuda';
import { GradSink, setGradSink, setRequiresGrad } from '../autograd/graph';

/** Overwrites target's data with host data of either precision, converted to target's dtype. */
export function writeConverted(target: Tensor, data: Float32Array | Float64Array): void {
  if (target.dtype === 'float64') target.write(data instanceof Float64Array ? data : Float64Array.from(data));
  else target.write(data instanceof Float32Array ? data : Float32Array.from(data));
}

export class Parameter implements GradSink {
  private current: Tensor;
  grad: Tensor | null = null;
  /** Frozen parameters (the mean shifts) are saved and loaded but never differentiated or optimised. */
  readonly trainable: boolean;

  constructor(value: Tensor, options: { trainable?: boolean } = {}) {
    this.trainable = options.trainable ?? true;
    this.current = value;
    this.attach(value);
  }

  get value(): Tensor {
    return this.current;
  }

  get shape(): readonly number[] {
    return this.current.shape;
  }

  private attach(value: Tensor): void {
    keep(value);
    if (this.trainable) {
      setRequiresGrad(value);
      setGradSink(value, this);
    }
  }

  /**
   * Makes value the parameter's tensor (the old one is disposed): state updated by an op's output,
   * such as spectral normalisation's power-iteration vectors, without a round trip through the host.
   */
  replace(value: Tensor): void {
    if (value.shape.join(',') !== this.current.shape.join(',')) throw new Error(`Parameter.replace: shape [${value.shape}] for a parameter of shape [${this.current.shape}]`);
    if (value === this.current) return;
    this.current.dispose();
    this.current = value;
    this.attach(value);
  }

  /** Overwrites the value's data in place (host data of the same length, converted to the value's dtype). */
  write(data: Float32Array | Float64Array): void {
    if (data.length !== this.current.size) throw new Error(`Parameter.write: ${data.length} values for shape [${this.current.shape}]`);
    writeConverted(this.current, data);
  }

  accumulateGrad(grad: Tensor): void {
    keep(grad);
    if (!this.grad) {
      this.grad = grad;
      return;
    }
    const sum = keep(add(this.grad, grad));
    this.grad.dispose();
    grad.dispose();
    this.grad = sum;
  }

  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  dispose(): void {
    this.zeroGrad();
    this.current.dispose();
  }
}
