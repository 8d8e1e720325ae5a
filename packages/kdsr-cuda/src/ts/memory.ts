// Memory statistics, for tests, leak checks and the CLI.
import { native, NativeMemoryStats } from './binding';

/** Live buffers and bytes held by the engine on a device ('cpu' by default). */
export function memory(device = 'cpu'): NativeMemoryStats {
  return native().memoryStats(device);
}

/** Returns memory cached by a device's allocator (CUDA) to the device; live tensors are kept. */
export function emptyCache(device = 'cpu'): void {
  native().emptyCache(device);
}
