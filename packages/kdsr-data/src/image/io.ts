// Image files <-> float images through sharp (libvips): PNG, JPEG, WebP and TIFF, 8 and 16 bits,
// grey / RGB / RGBA. Decoding applies the EXIF orientation, turns grey into RGB by replication,
// returns the alpha channel separately and ignores embedded ICC profiles; every failure names the file.
import { promises as fs } from 'fs';
import * as path from 'path';
import sharp, { Metadata, OutputInfo, Sharp } from 'sharp';
import { Tensor, writeFileAtomic } from '@kdsr/cuda';
import { HostImage, hostImage, roundHalfEven, tensorToImage } from './host-image';

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'tiff';

export const IMAGE_EXTENSIONS: Readonly<Record<string, ImageFormat>> = {
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.webp': 'webp',
  '.tif': 'tiff',
  '.tiff': 'tiff',
};

export interface ImageInfo {
  /** The file (or buffer name) the image came from. */
  source: string;
  format: ImageFormat;
  /** Size after applying the EXIF orientation. */
  width: number;
  height: number;
  /** Channels stored in the file: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. */
  channels: number;
  bitDepth: 8 | 16;
  /** EXIF orientation tag (1 when absent); already applied to the pixels. */
  orientation: number;
  /** Frames (animated WebP) or pages (TIFF) in the file; only the first is decoded. */
  frames: number;
}

export interface DecodedImage {
  /** RGB, planar (3, H, W), values in [0, 1]. */
  rgb: HostImage;
  /** Alpha (1, H, W) in [0, 1], or null when the file has none. */
  alpha: HostImage | null;
  info: ImageInfo;
}

function decodeError(source: string, reason: string): Error {
  return new Error(`Cannot read image ${source}: ${reason}`);
}

/** Decoded samples before conversion to floats: interleaved RGB(A), 8- or 16-bit. */
export interface RawImage {
  samples: Uint8Array | Uint16Array;
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA). */
  channels: number;
  info: ImageInfo;
}

/** A rectangle of an image: rows [top, top + height), columns [left, left + width). */
export interface Region {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Decodes an encoded image held in memory to raw samples; `source` names it in errors. */
export async function decodeRaw(buffer: Buffer | Uint8Array, source: string): Promise<RawImage> {
  let meta: Metadata;
  try {
    meta = await sharp(buffer).metadata();
  } catch (error) {
    throw decodeError(source, (error as Error).message);
  }
  const format = meta.format === 'jpeg' || meta.format === 'png' || meta.format === 'webp' || meta.format === 'tiff' ? meta.format : null;
  if (!format) throw decodeError(source, `unsupported image format '${meta.format}' (supported: png, jpeg, webp, tiff)`);
  let bitDepth: 8 | 16;
  if (meta.depth === 'uchar' || meta.depth === 'char') bitDepth = 8;
  else if (meta.depth === 'ushort' || meta.depth === 'short') bitDepth = 16;
  else throw decodeError(source, `unsupported sample type '${meta.depth}' (8- and 16-bit integer images only)`);

  let raw: { data: Buffer; info: OutputInfo };
  try {
    // Everything is converted to sRGB(A) (grey is replicated to 3 channels; alpha stays the last channel).
    // Embedded ICC profiles are ignored: pixels as stored, as OpenCV and PIL (the references) read them.
    const pipeline = sharp(buffer, { ignoreIcc: true }).autoOrient().toColourspace(bitDepth === 16 ? 'rgb16' : 'srgb');
    raw = await pipeline.raw(bitDepth === 16 ? { depth: 'ushort' } : {}).toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw decodeError(source, (error as Error).message);
  }
  const { width, height, channels } = raw.info;
  if (channels !== 3 && channels !== 4) throw decodeError(source, `decoder returned ${channels} channels`);
  const samples =
    bitDepth === 16 ? new Uint16Array(raw.data.buffer, raw.data.byteOffset, raw.data.length / 2) : new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.length);
  return {
    samples,
    width,
    height,
    channels,
    info: { source, format, width, height, channels: meta.channels ?? channels, bitDepth, orientation: meta.orientation ?? 1, frames: meta.pages ?? 1 },
  };
}

/** Planar floats in [0, 1] of a region (default: all) of a raw image; alpha apart. */
export function rawToFloat(raw: RawImage, region: Region = { top: 0, left: 0, height: raw.height, width: raw.width }): { rgb: HostImage; alpha: HostImage | null } {
  const { top, left, height, width } = region;
  if (top < 0 || left < 0 || height < 1 || width < 1 || top + height > raw.height || left + width > raw.width)
    throw new Error(`region ${height}x${width} at (${top},${left}) does not fit in ${raw.info.source} (${raw.height}x${raw.width})`);
  const { samples, channels } = raw;
  const scale = 1 / (raw.info.bitDepth === 16 ? 65535 : 255);
  const plane = width * height;
  const rgb = hostImage(3, height, width);
  const alpha = channels === 4 ? hostImage(1, height, width) : null;
  for (let i = 0; i < height; i++) {
    let s = ((top + i) * raw.width + left) * channels;
    for (let j = 0, p = i * width; j < width; j++, p++, s += channels) {
      rgb.data[p] = samples[s] * scale;
      rgb.data[plane + p] = samples[s + 1] * scale;
      rgb.data[2 * plane + p] = samples[s + 2] * scale;
      if (alpha) alpha.data[p] = samples[s + 3] * scale;
    }
  }
  return { rgb, alpha };
}

/** Decodes an encoded image held in memory; `source` names it in errors. Uses no engine tensors. */
export async function decodeImageBuffer(buffer: Buffer | Uint8Array, source: string): Promise<DecodedImage> {
  const raw = await decodeRaw(buffer, source);
  return { ...rawToFloat(raw), info: raw.info };
}

/** Decodes an image file (see decodeImageBuffer). */
export async function decodeImageFile(file: string): Promise<DecodedImage> {
  let buffer: Buffer;
  try {
    buffer = await fs.readFile(file);
  } catch (error) {
    throw decodeError(file, (error as Error).message);
  }
  return decodeImageBuffer(buffer, file);
}

export interface ReadImage {
  /** (1, 3, H, W) float32 in [0, 1]. */
  image: Tensor;
  /** (1, 1, H, W) or null. */
  alpha: Tensor | null;
  info: ImageInfo;
}

/** Reads an image file into a (1, 3, H, W) tensor in [0, 1], alpha apart. */
export async function readImage(file: string, options: { device?: string } = {}): Promise<ReadImage> {
  const { rgb, alpha, info } = await decodeImageFile(file);
  const device = options.device ?? 'cpu';
  return {
    image: Tensor.fromArray(rgb.data, [1, 3, rgb.height, rgb.width], { device }),
    alpha: alpha ? Tensor.fromArray(alpha.data, [1, 1, alpha.height, alpha.width], { device }) : null,
    info,
  };
}

export interface EncodeOptions {
  /** 8 (default) or 16 (PNG and TIFF only). */
  bitDepth?: 8 | 16;
  /** JPEG / WebP quality 1..100 (default 95). */
  quality?: number;
  /** Lossless WebP. */
  lossless?: boolean;
  /** PNG zlib level 0..9 (default 6); low levels write faster and larger files. */
  compressionLevel?: number;
  /** Alpha channel (1, H, W) in [0, 1], written as a fourth (or second, for grey) channel. */
  alpha?: HostImage | Tensor | null;
}

function asHostImage(value: HostImage | Tensor, what: string): HostImage {
  if (value instanceof Tensor) {
    if (value.rank === 4 && value.shape[0] !== 1) throw new Error(`${what}: expected one image, got a batch of ${value.shape[0]}`);
    return tensorToImage(value, 0);
  }
  return value;
}

/** Encodes a grey (1 channel) or RGB (3 channel) float image, values clamped to [0, 1] and rounded. */
export async function encodeImage(image: HostImage | Tensor, format: ImageFormat, options: EncodeOptions = {}): Promise<Buffer> {
  const img = asHostImage(image, 'encodeImage');
  const alpha = options.alpha ? asHostImage(options.alpha, 'encodeImage alpha') : null;
  const bitDepth = options.bitDepth ?? 8;
  if (img.channels !== 1 && img.channels !== 3) throw new Error(`encodeImage: expected 1 or 3 channels, got ${img.channels}`);
  if (alpha && (alpha.channels !== 1 || alpha.height !== img.height || alpha.width !== img.width))
    throw new Error(`encodeImage: alpha must be 1x${img.height}x${img.width}, got ${alpha.channels}x${alpha.height}x${alpha.width}`);
  if (bitDepth !== 8 && bitDepth !== 16) throw new Error(`encodeImage: bitDepth must be 8 or 16, got ${bitDepth}`);
  if (bitDepth === 16 && format !== 'png' && format !== 'tiff') throw new Error(`encodeImage: ${format} has no 16-bit mode (use png or tiff)`);

  const channels = img.channels + (alpha ? 1 : 0);
  const plane = img.height * img.width;
  const max = bitDepth === 16 ? 65535 : 255;
  const samples = bitDepth === 16 ? new Uint16Array(plane * channels) : new Uint8Array(plane * channels);
  const level = (v: number) => roundHalfEven(Math.min(Math.max(v, 0), 1) * max);
  for (let p = 0, s = 0; p < plane; p++) {
    for (let c = 0; c < img.channels; c++) samples[s++] = level(img.data[c * plane + p]);
    if (alpha) samples[s++] = level(alpha.data[p]);
  }
  return encoder({ samples, width: img.width, height: img.height, channels }, format, options).toBuffer();
}

/** Interleaved 8- or 16-bit samples (grey, grey + alpha, RGB or RGBA) ready for encoding. */
export interface Samples {
  samples: Uint8Array | Uint16Array;
  width: number;
  height: number;
  channels: number;
}

/** A sharp pipeline encoding `image` in `format` (bit depth from the sample type). */
export function encoder(image: Samples, format: ImageFormat, options: Omit<EncodeOptions, 'alpha' | 'bitDepth'> = {}): Sharp {
  const { samples, width, height, channels } = image;
  const bits16 = samples instanceof Uint16Array;
  if (bits16 && format !== 'png' && format !== 'tiff') throw new Error(`encodeImage: ${format} has no 16-bit mode (use png or tiff)`);
  if (format === 'jpeg' && channels % 2 === 0) throw new Error('encodeImage: JPEG cannot hold an alpha channel');
  const grey = channels <= 2;
  const space = bits16 ? (grey ? 'grey16' : 'rgb16') : grey ? 'b-w' : 'srgb';
  // No pixel limit: the caller has the samples in memory already.
  const pipeline = sharp(samples, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 }, limitInputPixels: false }).toColourspace(space);
  const quality = options.quality ?? 95;
  switch (format) {
    case 'png':
      return pipeline.png(options.compressionLevel !== undefined ? { compressionLevel: options.compressionLevel } : {});
    case 'jpeg':
      return pipeline.jpeg({ quality });
    case 'webp':
      return pipeline.webp(options.lossless ? { lossless: true } : { quality });
    case 'tiff':
      // sharp's TIFF default is JPEG compression (lossy, 8-bit): ask for lossless LZW.
      return pipeline.tiff({ compression: 'lzw' });
  }
}

/** Format of a file name by its extension, or an error naming the file. */
export function formatOfFile(file: string): ImageFormat {
  const format = IMAGE_EXTENSIONS[path.extname(file).toLowerCase()];
  if (!format) throw new Error(`Cannot write image ${file}: unknown extension (use ${Object.keys(IMAGE_EXTENSIONS).join(', ')})`);
  return format;
}

/**
 * Writes a (1, C, H, W) / (C, H, W) tensor or a host image; the format follows the extension. The
 * file appears complete or not at all (written beside it under a temporary name, then renamed).
 */
export async function writeImage(file: string, image: HostImage | Tensor, options: EncodeOptions = {}): Promise<void> {
  const format = formatOfFile(file);
  let buffer: Buffer;
  try {
    buffer = await encodeImage(image, format, options);
  } catch (error) {
    throw new Error(`Cannot write image ${file}: ${(error as Error).message}`);
  }
  await writeFileAtomic(file, (temporary) => fs.writeFile(temporary, buffer));
}
