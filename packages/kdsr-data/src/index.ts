// @kdsr/data: image I/O, metrics, degradation synthesis and datasets for KDSR.
export * from './image/host-image';
export * from './image/io';
export * from './metrics';
