// Memory statistics, for tests, leak checks and the CLI.
import { native, NativeMemoryStats } from './binding';
import { liveTensorCount } from './tensor';

export interface MemoryInfo extends NativeMemoryStats {
  /** Tensor objects of this thread not yet disposed (views share buffers, so this can exceed liveBuffers). */
  numTensors: number;
}

/** Live tensors, and buffers and bytes held by the engine on a device ('cpu' by default; buffers are process-wide). */
export function memory(device = 'cpu'): MemoryInfo {
  return { ...native().memoryStats(device), numTensors: liveTensorCount() };
}

/** Starts a new peak measurement on a device: memory(device).peakBytes becomes its live bytes. */
export function resetPeakMemory(device = 'cpu'): void {
  native().resetPeakMemory(device);
}

/** Returns memory cached by a device's allocator (host memory for the CPU) to the device; live tensors are kept. */
export function emptyCache(device = 'cpu'): void {
  native().emptyCache(device);
}
