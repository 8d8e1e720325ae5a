// Blurring batches with per-sample kernels: the engine's dyn_dwconv with reflect padding
// (mirror without repeating the edge pixel), one kernel per sample shared by its channels.
import { DType, dynDwconv, Tensor } from '@kdsr/cuda';
import { Kernel } from './kernels';

/**
 * (B, C, K, K) kernel tensor: kernels[b] for every channel of sample b, or one kernel for all
 * samples. All kernels must have the same size (pad smaller ones with padKernel).
 */
export function kernelTensor(kernels: Kernel | readonly Kernel[], batch: number, channels: number, dtype: DType = 'float32', device = 'cpu'): Tensor {
  const list = Array.isArray(kernels) ? (kernels as readonly Kernel[]) : [kernels as Kernel];
  if (list.length !== 1 && list.length !== batch) throw new Error(`blur: got ${list.length} kernels for a batch of ${batch} (give 1 or ${batch})`);
  const size = list[0].size;
  const area = size * size;
  const data = dtype === 'float64' ? new Float64Array(batch * channels * area) : new Float32Array(batch * channels * area);
  for (let b = 0; b < batch; b++) {
    const k = list[list.length === 1 ? 0 : b];
    if (k.size !== size) throw new Error(`blur: kernel sizes differ (${size} and ${k.size}); pad them to one size`);
    for (let c = 0; c < channels; c++) data.set(k.data, (b * channels + c) * area);
  }
  return Tensor.fromArray(data, [batch, channels, size, size], { dtype, device });
}

/** Cross-correlation of each sample with its kernel, reflect padding of K//2 (output size = input size). */
export function blur(x: Tensor, kernels: Kernel | readonly Kernel[]): Tensor {
  if (x.rank !== 4) throw new Error(`blur: expected a (B,C,H,W) tensor, got shape [${x.shape.join(',')}]`);
  const [batch, channels] = x.shape;
  const k = kernelTensor(kernels, batch, channels, x.dtype, x.device);
  try {
    return dynDwconv(x, k, { padding: 'reflect' });
  } finally {
    k.dispose();
  }
}
