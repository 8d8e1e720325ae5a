// A read-only zip archive reader, enough for torch.save files: the central directory (zip64
// included, as torch writes it for large checkpoints), stored entries and deflated ones (Node's zlib).
import * as zlib from 'zlib';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

function u64(buffer: Buffer, offset: number): number {
  const value = buffer.readBigUInt64LE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('zip: 64-bit field beyond 2^53');
  return Number(value);
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();

  constructor(
    private readonly buffer: Buffer,
    private readonly source = 'zip archive',
  ) {
    this.readCentralDirectory();
  }

  private fail(message: string): never {
    throw new Error(`${this.source}: ${message}`);
  }

  private findEndOfCentralDirectory(): number {
    // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
    const stop = Math.max(0, this.buffer.length - 22 - 0xffff);
    for (let at = this.buffer.length - 22; at >= stop; at--) if (this.buffer.readUInt32LE(at) === EOCD_SIGNATURE) return at;
    return this.fail('not a zip archive (no end-of-central-directory record)');
  }

  private readCentralDirectory(): void {
    const b = this.buffer;
    if (b.length < 22) this.fail('not a zip archive (too short)');
    const eocd = this.findEndOfCentralDirectory();
    let count = b.readUInt16LE(eocd + 10);
    let offset = b.readUInt32LE(eocd + 16);
    if ((count === 0xffff || offset === 0xffffffff) && eocd >= 20 && b.readUInt32LE(eocd - 20) === ZIP64_LOCATOR_SIGNATURE) {
      const record = u64(b, eocd - 20 + 8);
      if (b.readUInt32LE(record) !== ZIP64_EOCD_SIGNATURE) this.fail('corrupt zip64 end-of-central-directory record');
      count = u64(b, record + 32);
      offset = u64(b, record + 48);
    }
    for (let i = 0; i < count; i++) {
      if (offset + 46 > b.length || b.readUInt32LE(offset) !== CENTRAL_SIGNATURE) this.fail(`corrupt central directory (entry ${i})`);
      const method = b.readUInt16LE(offset + 10);
      let compressedSize = b.readUInt32LE(offset + 20);
      let size = b.readUInt32LE(offset + 24);
      const nameLength = b.readUInt16LE(offset + 28);
      const extraLength = b.readUInt16LE(offset + 30);
      const commentLength = b.readUInt16LE(offset + 32);
      let localHeaderOffset = b.readUInt32LE(offset + 42);
      const name = b.subarray(offset + 46, offset + 46 + nameLength).toString('utf8');
      // Zip64 extended information: the 64-bit values of the fields that read 0xffffffff, in order.
      for (let at = offset + 46 + nameLength, end = at + extraLength; at + 4 <= end; ) {
        const id = b.readUInt16LE(at);
        const length = b.readUInt16LE(at + 2);
        if (id === 0x0001) {
          let field = at + 4;
          if (size === 0xffffffff) (size = u64(b, field)), (field += 8);
          if (compressedSize === 0xffffffff) (compressedSize = u64(b, field)), (field += 8);
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = u64(b, field);
        }
        at += 4 + length;
      }
      this.entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
      offset += 46 + nameLength + extraLength + commentLength;
    }
  }

  /** The uncompressed bytes of an entry (a view into the archive for stored entries). */
  read(name: string): Buffer {
    const entry = this.entries.get(name);
    if (!entry) return this.fail(`no entry named '${name}'`);
    const b = this.buffer;
    const local = entry.localHeaderOffset;
    if (local + 30 > b.length || b.readUInt32LE(local) !== LOCAL_SIGNATURE) this.fail(`corrupt local header of '${name}'`);
    const start = local + 30 + b.readUInt16LE(local + 26) + b.readUInt16LE(local + 28);
    const end = start + entry.compressedSize;
    if (end > b.length) this.fail(`entry '${name}' runs past the end of the archive (truncated file?)`);
    const raw = b.subarray(start, end);
    if (entry.method === 0) return raw;
    if (entry.method === 8) {
      const data = zlib.inflateRawSync(raw);
      if (data.length !== entry.size) this.fail(`entry '${name}' inflated to ${data.length} bytes, expected ${entry.size}`);
      return data;
    }
    return this.fail(`entry '${name}' uses compression method ${entry.method}; only stored (0) and deflate (8) are supported`);
  }
}
