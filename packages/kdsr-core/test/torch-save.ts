// A writer of torch.save files for tests, independent of the reader under test: pickle opcodes
// assembled by hand (protocol 2, as torch.save writes) and a zip archive laid out as PyTorch's
// (`archive/data.pkl`, `archive/byteorder`, `archive/version`, one storage per `archive/data/<key>`,
// stored uncompressed with the data aligned to 64 bytes). torchSave() writes state dicts the way
// torch.save does: OrderedDicts with their `_metadata`, each tensor rebuilt by
// torch._utils._rebuild_tensor_v2 from a FloatStorage; a plain object becomes a dict (BasicSR's
// {'params': ..., 'params_ema': ...}).
import * as zlib from 'zlib';

export class PickleBytes {
  private readonly parts: Buffer[] = [];
  op(...bytes: number[]): this {
    this.parts.push(Buffer.from(bytes));
    return this;
  }
  text(s: string): this {
    this.parts.push(Buffer.from(s, 'latin1'));
    return this;
  }
  global(module: string, name: string): this {
    return this.op(0x63).text(`${module}\n${name}\n`);
  }
  unicode(s: string): this {
    const b = Buffer.from(s, 'utf8');
    const n = Buffer.alloc(4);
    n.writeUInt32LE(b.length);
    this.parts.push(Buffer.from([0x58]), n, b);
    return this;
  }
  /** BININT1 (0..255) or BININT (32-bit). */
  int(v: number): this {
    if (v >= 0 && v < 256) return this.op(0x4b, v);
    const n = Buffer.alloc(4);
    n.writeInt32LE(v);
    this.parts.push(Buffer.from([0x4a]), n);
    return this;
  }
  /** A tuple of ints. */
  ints(values: readonly number[]): this {
    this.op(0x28);
    for (const v of values) this.int(v);
    return this.op(0x74);
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()), the storage by persistent id. */
export function pickleTensor(p: PickleBytes, storageType: string, key: string, numel: number, offset: number, size: readonly number[], stride: readonly number[]): void {
  p.global('torch._utils', '_rebuild_tensor_v2').op(0x28); // MARK
  p.op(0x28).unicode('storage').global('torch', storageType).unicode(key).unicode('cpu').int(numel).op(0x74, 0x51); // TUPLE, BINPERSID
  p.int(offset).ints(size).ints(stride).op(0x89); // NEWFALSE: requires_grad
  p.global('collections', 'OrderedDict').op(0x29, 0x52); // EMPTY_TUPLE, REDUCE
  p.op(0x74, 0x52); // TUPLE, REDUCE
}

export interface ZipEntryInput {
  name: string;
  data: Buffer;
  deflate?: boolean;
  /** Pad the local header so that the data starts at a multiple of this (torch: 64). */
  align?: number;
}

export function zipArchive(entries: readonly ZipEntryInput[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const body = e.deflate ? zlib.deflateRawSync(e.data) : e.data;
    const name = Buffer.from(e.name);
    const start = offset + 30 + name.length;
    const padding = e.align ? (e.align - ((start + 4) % e.align)) % e.align : 0;
    // An extra field 'FB' of padding, as torch writes.
    const extra = e.align ? Buffer.concat([Buffer.from([0x46, 0x42]), Buffer.from([padding & 0xff, padding >> 8]), Buffer.alloc(padding, 0x5a)]) : Buffer.alloc(0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(e.deflate ? 8 : 0, 8);
    local.writeUInt32LE(zlib.crc32(e.data), 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(extra.length, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(e.deflate ? 8 : 0, 10);
    central.writeUInt32LE(zlib.crc32(e.data), 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, extra, body);
    centrals.push(central, name);
    offset += 30 + name.length + extra.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** A float32 tensor on the host. */
export interface Float32Tensor {
  shape: readonly number[];
  data: Float32Array;
}

/** A state dict (pickled as an OrderedDict with `_metadata`), or a dict of them. */
export type TorchObject = Map<string, Float32Tensor> | { [key: string]: Map<string, Float32Tensor> };

function contiguousStride(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) stride[d] = stride[d + 1] * shape[d + 1];
  return stride;
}

/** The bytes torch.save(object) writes (zip format, pickle protocol 2). */
export function torchSave(object: TorchObject): Buffer {
  const storages: Buffer[] = [];
  const p = new PickleBytes().op(0x80, 0x02); // PROTO 2
  const stateDict = (dict: Map<string, Float32Tensor>) => {
    p.global('collections', 'OrderedDict').op(0x29, 0x52, 0x28); // OrderedDict(), MARK
    for (const [key, t] of dict) {
      p.unicode(key);
      pickleTensor(p, 'FloatStorage', String(storages.length), t.data.length, 0, t.shape, contiguousStride(t.shape));
      storages.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
    p.op(0x75); // SETITEMS
    p.op(0x7d).unicode('_metadata').global('collections', 'OrderedDict').op(0x29, 0x52, 0x73, 0x62); // {'_metadata': OrderedDict()}, BUILD
  };
  if (object instanceof Map) stateDict(object);
  else {
    p.op(0x7d, 0x28); // EMPTY_DICT, MARK
    for (const [key, dict] of Object.entries(object)) {
      p.unicode(key);
      stateDict(dict);
    }
    p.op(0x75); // SETITEMS
  }
  p.op(0x2e); // STOP
  return zipArchive([
    { name: 'archive/data.pkl', data: p.bytes(), align: 64 },
    { name: 'archive/byteorder', data: Buffer.from('little'), align: 64 },
    ...storages.map((data, i) => ({ name: `archive/data/${i}`, data, align: 64 })),
    { name: 'archive/version', data: Buffer.from('3\n'), align: 64 },
  ]);
}
