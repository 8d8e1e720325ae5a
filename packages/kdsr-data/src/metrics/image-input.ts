// Metrics accept host images or single-image tensors; both become planar float arrays here.
import { Tensor } from '@kdsr/cuda';
import { HostImage, tensorToImage } from '../image/host-image';

export type MetricImage = HostImage | Tensor;

export function asHostImage(image: MetricImage, what: string): HostImage {
  if (image instanceof Tensor) {
    if (image.rank === 4 && image.shape[0] !== 1) throw new Error(`${what}: expected one image, got a batch of ${image.shape[0]}`);
    return tensorToImage(image, 0);
  }
  return image;
}

/** Both images as host images, checked to be RGB and of the same size. */
export function rgbPair(sr: MetricImage, hr: MetricImage, metric: string): [HostImage, HostImage] {
  const a = asHostImage(sr, metric);
  const b = asHostImage(hr, metric);
  if (a.channels !== 3 || b.channels !== 3) throw new Error(`${metric}: expected RGB images, got ${a.channels} and ${b.channels} channels`);
  if (a.height !== b.height || a.width !== b.width) throw new Error(`${metric}: image sizes differ: ${a.height}x${a.width} and ${b.height}x${b.width}`);
  return [a, b];
}

/** Checks that a border leaves at least `minimum` pixels per side of the image. */
export function checkBorder(height: number, width: number, border: number, minimum: number, metric: string): void {
  if (!Number.isInteger(border) || border < 0) throw new Error(`${metric}: border must be a non-negative integer, got ${border}`);
  if (height - 2 * border < minimum || width - 2 * border < minimum)
    throw new Error(`${metric}: a ${height}x${width} image is too small for a border of ${border} (at least ${minimum}x${minimum} must remain)`);
}
