// An output image held as 8- or 16-bit interleaved samples and filled region by region from float
// tiles (quantised as encodeImage does), so that a large SR image costs 3-8 bytes per pixel
// instead of the 12 of float planes; written straight from the samples, atomically.
import { writeFileAtomic } from '@kdsr/cuda';
import { HostImage, roundHalfEven } from './host-image';
import { EncodeOptions, encoder, formatOfFile, Samples } from './io';

export class ImageCanvas implements Samples {
  readonly samples: Uint8Array | Uint16Array;
  /** Non-finite (NaN, infinite) values put so far; they are stored as 0. */
  nonFinite = 0;

  constructor(
    readonly width: number,
    readonly height: number,
    /** 3 (RGB) or 4 (RGBA). */
    readonly channels: number,
    readonly bitDepth: 8 | 16,
  ) {
    const n = width * height * channels;
    this.samples = bitDepth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  }

  /** Quantises `tile`'s planes into channels first.. of the region at (top, left). */
  put(tile: HostImage, top: number, left: number, first = 0): void {
    if (top < 0 || left < 0 || top + tile.height > this.height || left + tile.width > this.width || first + tile.channels > this.channels)
      throw new Error(`ImageCanvas: a ${tile.channels}x${tile.height}x${tile.width} tile does not fit at (${top}, ${left}, channel ${first}) in ${this.channels}x${this.height}x${this.width}`);
    const max = this.bitDepth === 16 ? 65535 : 255;
    const plane = tile.height * tile.width;
    for (let c = 0; c < tile.channels; c++)
      for (let y = 0; y < tile.height; y++) {
        let s = ((top + y) * this.width + left) * this.channels + first + c;
        for (let x = 0, p = c * plane + y * tile.width; x < tile.width; x++, p++, s += this.channels) {
          const v = tile.data[p];
          if (!Number.isFinite(v)) this.nonFinite++;
          this.samples[s] = v > 0 ? (v < 1 ? roundHalfEven(v * max) : max) : 0;
        }
      }
  }

  /** Encodes to `file` (format by extension) through a temporary file beside it. */
  async write(file: string, options: Omit<EncodeOptions, 'alpha' | 'bitDepth'> = {}): Promise<void> {
    const format = formatOfFile(file);
    await writeFileAtomic(file, async (temporary) => {
      try {
        await encoder(this, format, options).toFile(temporary);
      } catch (error) {
        throw new Error(`Cannot write image ${file}: ${(error as Error).message}`);
      }
    });
  }
}
