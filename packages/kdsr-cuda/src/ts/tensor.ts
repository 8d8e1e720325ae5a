// Tensor: a handle to device memory with a shape, released by dispose() or by the scope it was
// created in (see scope.ts). Reading data back is the only synchronising operation.
import { DType, native, NativeTensorHandle, TypedArray } from './binding';
import { track, untrack } from './scope';

export interface TensorOptions {
  device?: string;
  dtype?: DType;
}

// Safety net only: a tensor that is garbage-collected without dispose() still frees its memory.
const finalizer = new FinalizationRegistry<NativeTensorHandle>((handle) => {
  liveTensors--;
  handle.dispose();
});
let liveTensors = 0;

/** Tensor objects of this thread that are neither disposed nor collected. */
export function liveTensorCount(): number {
  return liveTensors;
}

export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: string;
  private handle: NativeTensorHandle | null;

  /** Wraps a native handle; the new tensor belongs to the innermost open scope. */
  constructor(handle: NativeTensorHandle) {
    this.handle = handle;
    this.shape = Object.freeze(handle.shape.slice());
    this.dtype = handle.dtype;
    this.device = handle.device;
    finalizer.register(this, handle, this);
    liveTensors++;
    track(this);
  }

  /** A tensor holding a copy of `data` (row-major). Numbers become float32 unless dtype says otherwise. */
  static fromArray(data: TypedArray | readonly number[], shape: readonly number[], options: TensorOptions = {}): Tensor {
    const dtype = options.dtype ?? (data instanceof Float64Array ? 'float64' : 'float32');
    const typed = dtype === 'float64' ? (data instanceof Float64Array ? data : Float64Array.from(data)) : data instanceof Float32Array ? data : Float32Array.from(data);
    return new Tensor(native().fromArray(typed, shape, options.device ?? 'cpu'));
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this.handle === null;
  }

  /** The native handle, for op wrappers. Throws if the tensor was disposed. */
  native(): NativeTensorHandle {
    if (!this.handle) throw new Error(`tensor ${JSON.stringify(this.shape)} has been disposed`);
    return this.handle;
  }

  /** A copy of the data on the host (Float32Array or Float64Array by dtype). */
  toArray(): TypedArray {
    return this.native().read();
  }

  /** The data as float32 (a copy), whatever the dtype. */
  toFloat32Array(): Float32Array {
    const data = this.toArray();
    return data instanceof Float32Array ? data : Float32Array.from(data);
  }

  /** Overwrites the data with a host array of the same dtype and length. */
  write(data: TypedArray): void {
    this.native().write(data);
  }

  /** A view with another shape sharing this tensor's memory. */
  reshape(shape: readonly number[]): Tensor {
    return new Tensor(this.native().reshape(shape));
  }

  /** A copy on another device ('cpu', 'cuda:0', ...). */
  to(device: string): Tensor {
    return new Tensor(this.native().to(device));
  }

  /** A copy in another dtype (through the host). */
  cast(dtype: DType): Tensor {
    if (dtype === this.dtype) return this.to(this.device);
    const data = this.toArray();
    return Tensor.fromArray(dtype === 'float64' ? Float64Array.from(data) : Float32Array.from(data), this.shape, { device: this.device, dtype });
  }

  /** Releases the memory now. Safe to call twice. */
  dispose(): void {
    if (!this.handle) return;
    this.handle.dispose();
    this.handle = null;
    liveTensors--;
    finalizer.unregister(this);
    untrack(this);
  }

  toString(): string {
    return `Tensor(${JSON.stringify(this.shape)}, ${this.dtype}, ${this.device}${this.handle ? '' : ', disposed'})`;
  }
}
