// @kdsr/cuda: the native tensor engine of kdsr.
export { native, nativeOrigin, platformName } from './binding';
export type { AddonOrigin, DType, TypedArray, BuildInfo, CpuIsa, CudaBuildInfo, CudaLibrary, CudaAvailability, DeviceListing, KernelListing, NativeMemoryStats, Attrs } from './binding';
export { Tensor } from './tensor';
export type { TensorOptions } from './tensor';
export { tidy, keep, dispose } from './scope';
export { memory, emptyCache, resetPeakMemory } from './memory';
export type { MemoryInfo } from './memory';
export { opTable, opSpec } from './op-table';
export type { OpSpec, OpGrad } from './op-table';
export * from './engine';
export * from './safetensors';
export { makeDirectory, writeFileAtomic, writeFileAtomicSync, temporaryPath, removeTemporaryFiles, removeStaleTemporaryFiles } from './files';
export { halfToFloat, bfloat16ToFloat, floatToHalf } from './float16';
export * from './ops';
export * as testing from './testing';
