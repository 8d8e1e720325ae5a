// @kdsr/data: image I/O, metrics, degradation synthesis and datasets for KDSR.
export * from './image/host-image';
export * from './image/io';
export * from './metrics';
export * from './degradation/bessel';
export * from './degradation/kernels';
export * from './degradation/resize-matrices';
export * from './degradation/resize';
export * from './degradation/blur';
export * from './degradation/random-stream';
export * from './degradation/classic';
export * from './degradation/samplers';
export * from './degradation/test-settings';
export * from './degradation/benchmark-set';
export * from './datasets/image-files';
