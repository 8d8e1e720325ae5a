// Host-side image helpers for tiled inference: crops and pastes of (C, H, W) planes, and the eight
// dihedral transforms of the self-ensemble. Images cross to the host once per tile anyway.

export interface HostImage {
  channels: number;
  height: number;
  width: number;
  /** (C, H, W) row-major. */
  data: Float32Array;
}

export function crop(image: HostImage, top: number, left: number, height: number, width: number): HostImage {
  const out = new Float32Array(image.channels * height * width);
  for (let c = 0; c < image.channels; c++)
    for (let y = 0; y < height; y++) {
      const from = (c * image.height + top + y) * image.width + left;
      out.set(image.data.subarray(from, from + width), (c * height + y) * width);
    }
  return { channels: image.channels, height, width, data: out };
}

/** Copies src's region (srcTop, srcLeft, height, width) into dst at (dstTop, dstLeft). */
export function paste(dst: HostImage, src: HostImage, srcTop: number, srcLeft: number, height: number, width: number, dstTop: number, dstLeft: number): void {
  for (let c = 0; c < dst.channels; c++)
    for (let y = 0; y < height; y++) {
      const from = (c * src.height + srcTop + y) * src.width + srcLeft;
      dst.data.set(src.data.subarray(from, from + width), (c * dst.height + dstTop + y) * dst.width + dstLeft);
    }
}

/**
 * Transform t in 0..7 of the dihedral group: bit 0 flips columns, bit 1 flips rows, bit 2
 * transposes (applied last). inverseDihedral undoes it.
 */
export function dihedral(image: HostImage, t: number): HostImage {
  const { channels, height, width, data } = image;
  const transpose = (t & 4) !== 0;
  const outH = transpose ? width : height;
  const outW = transpose ? height : width;
  const out = new Float32Array(data.length);
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const sx = t & 1 ? width - 1 - x : x;
        const sy = t & 2 ? height - 1 - y : y;
        const [oy, ox] = transpose ? [x, y] : [y, x];
        out[(c * outH + oy) * outW + ox] = data[(c * height + sy) * width + sx];
      }
  return { channels, height: outH, width: outW, data: out };
}

export function inverseDihedral(image: HostImage, t: number): HostImage {
  // Undo the transpose first, then the flips (each flip is its own inverse).
  const untransposed = t & 4 ? dihedral(image, 4) : image;
  return dihedral(untransposed, t & 3);
}
