export * from './color';
export * from './psnr';
export * from './ssim';
export type { MetricImage } from './image-input';
