// safetensors: 8-byte little-endian header length, a JSON header (tensor name -> dtype, shape,
// data_offsets; optional "__metadata__" string map), then the raw little-endian data.
// Fixtures and checkpoints load straight into tensors; F16/BF16 are widened to float32.
import * as fs from 'fs';
import { writeFileAtomicSync } from './files';
import { Tensor } from './tensor';
import { bfloat16ToFloat, floatToHalf, halfToFloat } from './float16';

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

export interface LoadOptions {
  device?: string;
  /** Load only these names (all when absent). */
  names?: readonly string[];
}

const ELEMENT_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };

function parseHeader(buffer: Buffer, source: string): { header: Record<string, SafetensorsEntry>; metadata: Record<string, string>; dataStart: number } {
  if (buffer.length < 8) throw new Error(`${source}: not a safetensors file (shorter than its 8-byte header length)`);
  const headerLength = Number(buffer.readBigUInt64LE(0));
  if (headerLength > buffer.length - 8) throw new Error(`${source}: truncated safetensors file (header of ${headerLength} bytes, file of ${buffer.length})`);
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(buffer.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${source}: corrupt safetensors header (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${source}: corrupt safetensors header (not a JSON object)`);
  const metadata = (parsed.__metadata__ ?? {}) as Record<string, string>;
  if (typeof metadata !== 'object' || Array.isArray(metadata) || Object.values(metadata).some((v) => typeof v !== 'string'))
    throw new Error(`${source}: corrupt safetensors header (__metadata__ must map strings to strings)`);
  delete parsed.__metadata__;
  for (const [name, entry] of Object.entries(parsed)) checkEntry(name, entry, source);
  return { header: parsed as unknown as Record<string, SafetensorsEntry>, metadata, dataStart: 8 + headerLength };
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function checkEntry(name: string, entry: unknown, source: string): void {
  const e = entry as Partial<SafetensorsEntry> | null;
  const valid =
    e !== null &&
    typeof e === 'object' &&
    typeof e.dtype === 'string' &&
    Array.isArray(e.shape) &&
    e.shape.every(isCount) &&
    Array.isArray(e.data_offsets) &&
    e.data_offsets.length === 2 &&
    e.data_offsets.every(isCount) &&
    e.data_offsets[0] <= e.data_offsets[1];
  if (!valid) throw new Error(`${source}: corrupt safetensors header (tensor '${name}' needs a dtype, a shape of non-negative integers and data_offsets [begin, end])`);
}

function decode(bytes: Buffer, dtype: string, count: number, name: string, source: string): Float32Array | Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    case 'F64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = bfloat16ToFloat(view.getUint16(2 * i, true));
      return out;
    }
    default:
      throw new Error(`${source}: tensor '${name}' has dtype ${dtype}; only F32, F64, F16 and BF16 are supported`);
  }
}

/** Reads a safetensors buffer into tensors (on options.device, 'cpu' by default). */
export function loadSafetensorsBuffer(buffer: Buffer, options: LoadOptions = {}, source = 'buffer'): SafetensorsFile {
  const { header, metadata, dataStart } = parseHeader(buffer, source);
  const wanted = options.names ? new Set(options.names) : null;
  if (wanted) for (const name of wanted) if (!(name in header)) throw new Error(`${source}: no tensor named '${name}'`);
  const tensors = new Map<string, Tensor>();
  try {
    for (const [name, entry] of Object.entries(header)) {
      if (wanted && !wanted.has(name)) continue;
      const count = entry.shape.reduce((a, b) => a * b, 1);
      const [begin, end] = entry.data_offsets;
      const elementBytes = ELEMENT_BYTES[entry.dtype];
      if (elementBytes === undefined) decode(Buffer.alloc(0), entry.dtype, 0, name, source);
      if (end - begin !== count * elementBytes || dataStart + end > buffer.length)
        throw new Error(`${source}: tensor '${name}' has inconsistent offsets [${begin}, ${end}] for shape [${entry.shape.join(',')}] ${entry.dtype}`);
      const data = decode(buffer.subarray(dataStart + begin, dataStart + end), entry.dtype, count, name, source);
      tensors.set(name, Tensor.fromArray(data, entry.shape, { device: options.device ?? 'cpu' }));
    }
  } catch (error) {
    for (const t of tensors.values()) t.dispose();
    throw error;
  }
  return { tensors, metadata };
}

/** Reads a safetensors file into tensors. */
export function loadSafetensors(file: string, options: LoadOptions = {}): SafetensorsFile {
  return loadSafetensorsBuffer(fs.readFileSync(file), options, file);
}

/** Reads only the header and metadata (no tensor data). */
export function readSafetensorsHeader(file: string): { entries: Record<string, SafetensorsEntry>; metadata: Record<string, string> } {
  const fd = fs.openSync(file, 'r');
  try {
    const lengthBytes = Buffer.alloc(8);
    fs.readSync(fd, lengthBytes, 0, 8, 0);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    const size = fs.fstatSync(fd).size;
    if (headerLength > size - 8) throw new Error(`${file}: truncated safetensors file`);
    const headerBytes = Buffer.alloc(8 + headerLength);
    fs.readSync(fd, headerBytes, 0, 8 + headerLength, 0);
    const { header, metadata } = parseHeader(headerBytes, file);
    return { entries: header, metadata };
  } finally {
    fs.closeSync(fd);
  }
}

export interface SaveOptions {
  /** Store float32 tensors as IEEE half precision (F16: half the size, for released weights). Default: as they are. */
  storeAs?: 'float16';
}

function encode(t: Tensor, options: SaveOptions): { dtype: string; bytes: Buffer } {
  const data = t.toArray();
  if (options.storeAs === 'float16') {
    const halves = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) halves[i] = floatToHalf(data[i]);
    return { dtype: 'F16', bytes: Buffer.from(halves.buffer) };
  }
  return { dtype: t.dtype === 'float64' ? 'F64' : 'F32', bytes: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
}

/** Serialises tensors (float32 or float64, read back from any device) with string metadata. Names are sorted. */
export function saveSafetensorsBuffer(tensors: Map<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}, options: SaveOptions = {}): Buffer {
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    const { dtype, bytes } = encode(t, options);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);  // align the data to 8 bytes
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([length, Buffer.from(json, 'utf8'), ...chunks]);
}

/** Writes a safetensors file atomically: to a temporary file in the same folder, flushed, then renamed over the target. */
export function saveSafetensors(file: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}, options: SaveOptions = {}): void {
  writeFileAtomicSync(file, saveSafetensorsBuffer(tensors, metadata, options));
}
