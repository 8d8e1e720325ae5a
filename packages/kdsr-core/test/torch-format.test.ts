// A hand-assembled torch.save archive exercising what the fixtures do not: float16 storages, a
// strided (transposed) view with a storage offset, OrderedDict built by REDUCE with a _metadata
// BUILD, DataParallel's 'module.' prefix, and deflated zip entries. The expected values are
// written out by hand (IEEE half bit patterns), independent of the reader. And the test writer
// torchSave() (BasicSR's layout, as the official KDSR-GAN releases are saved) read back exactly.
import { torchStateDict } from '../src/checkpoint/torch-import';
import { PickleBytes, pickleTensor, torchSave, zipArchive } from './torch-save';

test('float16 storage, strided view, OrderedDict with _metadata, module. prefix, deflated entries', () => {
  const p = new PickleBytes().op(0x80, 0x02);
  p.global('collections', 'OrderedDict').op(0x29, 0x52, 0x28); // OrderedDict(), MARK
  p.unicode('module.half');
  pickleTensor(p, 'HalfStorage', '0', 4, 0, [2, 2], [2, 1]);
  p.unicode('module.view');
  pickleTensor(p, 'FloatStorage', '1', 6, 1, [2, 2], [1, 3]);
  p.op(0x75); // SETITEMS
  p.op(0x7d).unicode('_metadata').op(0x7d, 0x73, 0x62); // {'_metadata': {}}, BUILD
  p.op(0x2e);
  const halves = Buffer.alloc(8);
  [0x3c00, 0xc000, 0x3555, 0x0001].forEach((h, i) => halves.writeUInt16LE(h, 2 * i));
  const floats = Buffer.from(new Float32Array([0, 1, 2, 3, 4, 5]).buffer);
  const archive = zipArchive([
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

test("torchSave's BasicSR layout ({'params', 'params_ema'} of OrderedDicts, 64-byte aligned storages) reads back exactly, params_ema chosen", () => {
  const tensor = (shape: number[], from: number) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => from + i / 8) });
  const ema = new Map([['a.weight', tensor([2, 3], 1)], ['a.bias', tensor([2], -1)], ['b', tensor([300], 7)]]);
  const raw = new Map([...ema].map(([k, t]) => [k, { shape: t.shape, data: t.data.map((v) => v + 100) }]));
  const { tensors, choice } = torchStateDict(torchSave({ params: raw, params_ema: ema }), 'basicsr.pth');
  expect(choice).toEqual({ entry: 'params_ema', strippedPrefix: '' });
  expect([...tensors.keys()]).toEqual(['a.weight', 'a.bias', 'b']);
  for (const [key, t] of ema) expect({ key, shape: tensors.get(key)!.shape, data: Array.from(tensors.get(key)!.data) }).toEqual({ key, shape: t.shape, data: Array.from(t.data) });
});
