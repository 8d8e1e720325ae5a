// A hand-assembled torch.save archive exercising what the fixtures do not: float16 storages, a
// strided (transposed) view with a storage offset, OrderedDict built by REDUCE with a _metadata
// BUILD, DataParallel's 'module.' prefix, and deflated zip entries. The expected values are
// written out by hand (IEEE half bit patterns), independent of the reader.
import * as zlib from 'zlib';
import { torchStateDict } from '../src/checkpoint/torch-import';

class PickleBytes {
  private readonly parts: Buffer[] = [];
  op(...bytes: number[]) {
    this.parts.push(Buffer.from(bytes));
    return this;
  }
  text(s: string) {
    this.parts.push(Buffer.from(s, 'latin1'));
    return this;
  }
  global(module: string, name: string) {
    return this.op(0x63).text(`${module}\n${name}\n`);
  }
  unicode(s: string) {
    const b = Buffer.from(s, 'utf8');
    const n = Buffer.alloc(4);
    n.writeUInt32LE(b.length);
    this.parts.push(Buffer.from([0x58]), n, b);
    return this;
  }
  int(v: number) {
    return this.op(0x4b, v); // BININT1
  }
  bytes() {
    return Buffer.concat(this.parts);
  }
}

/** _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()). */
function tensor(p: PickleBytes, storageType: string, key: string, numel: number, offset: number, size: [number, number], stride: [number, number]) {
  p.global('torch._utils', '_rebuild_tensor_v2').op(0x28); // MARK
  p.op(0x28).unicode('storage').global('torch', storageType).unicode(key).unicode('cpu').int(numel).op(0x74, 0x51); // TUPLE, BINPERSID
  p.int(offset).int(size[0]).int(size[1]).op(0x86).int(stride[0]).int(stride[1]).op(0x86).op(0x89);
  p.global('collections', 'OrderedDict').op(0x29, 0x52); // EMPTY_TUPLE, REDUCE
  p.op(0x74, 0x52); // TUPLE, REDUCE
}

function zip(entries: Array<{ name: string; data: Buffer; deflate: boolean }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const body = e.deflate ? zlib.deflateRawSync(e.data) : e.data;
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(e.deflate ? 8 : 0, 8);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(e.deflate ? 8 : 0, 10);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
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

test('float16 storage, strided view, OrderedDict with _metadata, module. prefix, deflated entries', () => {
  const p = new PickleBytes().op(0x80, 0x02);
  p.global('collections', 'OrderedDict').op(0x29, 0x52, 0x28); // OrderedDict(), MARK
  p.unicode('module.half');
  tensor(p, 'HalfStorage', '0', 4, 0, [2, 2], [2, 1]);
  p.unicode('module.view');
  tensor(p, 'FloatStorage', '1', 6, 1, [2, 2], [1, 3]);
  p.op(0x75); // SETITEMS
  p.op(0x7d).unicode('_metadata').op(0x7d, 0x73, 0x62); // {'_metadata': {}}, BUILD
  p.op(0x2e);
  const halves = Buffer.alloc(8);
  [0x3c00, 0xc000, 0x3555, 0x0001].forEach((h, i) => halves.writeUInt16LE(h, 2 * i));
  const floats = Buffer.from(new Float32Array([0, 1, 2, 3, 4, 5]).buffer);
  const archive = zip([
    { name: 'ckpt/data.pkl', data: p.bytes(), deflate: true },
    { name: 'ckpt/byteorder', data: Buffer.from('little'), deflate: false },
    { name: 'ckpt/data/0', data: halves, deflate: false },
    { name: 'ckpt/data/1', data: floats, deflate: true },
  ]);
  const { tensors, choice } = torchStateDict(archive, 'crafted.pth');
  expect(choice).toEqual({ entry: '', strippedPrefix: 'module.' });
  expect([...tensors.keys()]).toEqual(['half', 'view']);
  const half = tensors.get('half')!;
  expect(half.storageType).toBe('HalfStorage');
  expect(half.shape).toEqual([2, 2]);
  expect(Array.from(half.data)).toEqual([1, -2, 0.333251953125, 2 ** -24]);
  const view = tensors.get('view')!;
  expect(Array.from(view.data)).toEqual([1, 4, 2, 5]); // element [i][j] = storage[1 + i + 3j]
});
