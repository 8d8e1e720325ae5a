import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSafetensors, loadSafetensorsBuffer, memory, readSafetensorsHeader, saveSafetensors, saveSafetensorsBuffer, Tensor, tidy } from '../src/ts';
import { fixturesDir } from './helpers';

const live = () => memory('cpu').liveBuffers;

/** A safetensors buffer written by hand: header JSON (not padded) then the data bytes. */
function rawFile(header: unknown, data: Buffer = Buffer.alloc(0)): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, data]);
}

function sampleTensors(): Record<string, Tensor> {
  return {
    'layer.weight': Tensor.fromArray(new Float32Array([1.5, -2, 3.25, 1e-30, 3e38, -0]), [2, 3]),
    'layer.bias': Tensor.fromArray(new Float64Array([Math.PI, -1 / 3, 1e-300, 2 ** 60]), [4]),
    scalar: Tensor.fromArray(new Float64Array([42]), []),
    loss: Tensor.fromArray([0.25], [1]),
    empty: Tensor.fromArray(new Float32Array(0), [0, 3]),
  };
}

function expectSameTensors(actual: Map<string, Tensor>, expected: Record<string, Tensor>): void {
  expect([...actual.keys()].sort()).toEqual(Object.keys(expected).sort());
  for (const [name, t] of Object.entries(expected)) {
    const a = actual.get(name)!;
    expect(a.shape).toEqual(t.shape);
    expect(a.dtype).toBe(t.dtype);
    expect(Array.from(a.toArray())).toEqual(Array.from(t.toArray())); // exact, -0 included
  }
}

describe('safetensors', () => {
  test('buffer round trip keeps names, dtypes (float64 too), shapes, values and metadata', () => {
    tidy(() => {
      const tensors = sampleTensors();
      const metadata = { format: 'kdsr-test', config: JSON.stringify({ scale: 4, names: ['a', 'b'] }), empty: '' };
      const buffer = saveSafetensorsBuffer(tensors, metadata);
      const headerLength = Number(buffer.readBigUInt64LE(0));
      expect((8 + headerLength) % 8).toBe(0); // data aligned to 8 bytes
      const loaded = loadSafetensorsBuffer(buffer);
      expectSameTensors(loaded.tensors, tensors);
      expect(loaded.metadata).toEqual(metadata);
      // Names are written sorted; a Map input gives the same bytes as a plain object.
      expect(saveSafetensorsBuffer(new Map(Object.entries(tensors)), metadata).equals(buffer)).toBe(true);
      expect(Object.keys(JSON.parse(buffer.subarray(8, 8 + headerLength).toString()))).toEqual(['__metadata__', 'empty', 'layer.bias', 'layer.weight', 'loss', 'scalar']);
    });
  });

  test('file round trip, header-only reading and loading a subset', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdsr-safetensors-'));
    try {
      tidy(() => {
        const tensors = sampleTensors();
        const file = path.join(dir, 'model.safetensors');
        saveSafetensors(file, tensors, { note: 'round trip' });
        expect(fs.readdirSync(dir)).toEqual(['model.safetensors']); // no temporary file left
        expectSameTensors(loadSafetensors(file).tensors, tensors);
        const header = readSafetensorsHeader(file);
        expect(header.metadata).toEqual({ note: 'round trip' });
        expect(header.entries['layer.bias']).toMatchObject({ dtype: 'F64', shape: [4] });
        expect(header.entries['layer.weight']).toMatchObject({ dtype: 'F32', shape: [2, 3] });
        const before = live();
        const subset = loadSafetensors(file, { names: ['loss'] });
        expect([...subset.tensors.keys()]).toEqual(['loss']);
        expect(live()).toBe(before + 1);
        expect(() => loadSafetensors(file, { names: ['missing'] })).toThrow(`${file}: no tensor named 'missing'`);
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('reads the project fixtures', () => {
    const header = readSafetensorsHeader(path.join(fixturesDir(), 'ops.safetensors'));
    expect(header.metadata.format).toBe('kdsr-fixture-v1');
    expect(header.entries['kd.student']).toMatchObject({ dtype: 'F32', shape: [3, 16] });
  });

  test('widens F16 and BF16 to float32', () => {
    tidy(() => {
      const half = Buffer.alloc(10);
      [0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00].forEach((h, i) => half.writeUInt16LE(h, 2 * i));
      const bf16 = Buffer.alloc(4);
      [0x3f80, 0x4049].forEach((h, i) => bf16.writeUInt16LE(h, 2 * i));
      const file = rawFile(
        { h: { dtype: 'F16', shape: [5], data_offsets: [0, 10] }, b: { dtype: 'BF16', shape: [2], data_offsets: [10, 14] } },
        Buffer.concat([half, bf16]),
      );
      const { tensors } = loadSafetensorsBuffer(file);
      expect(tensors.get('h')!.dtype).toBe('float32');
      expect(Array.from(tensors.get('h')!.toArray())).toEqual([1, -2, 65504, 2 ** -24, Infinity]);
      expect(Array.from(tensors.get('b')!.toArray())).toEqual([1, 3.140625]);
    });
  });

  test('corrupt or truncated input gives clear errors and leaks nothing', () => {
    const before = live();
    const good = tidy(() => saveSafetensorsBuffer(sampleTensors()));
    const cases: Array<[string, Buffer, string]> = [
      ['shorter than 8 bytes', Buffer.from([1, 2, 3]), 'src: not a safetensors file (shorter than its 8-byte header length)'],
      ['header length past the end', good.subarray(0, 40), 'src: truncated safetensors file (header of'],
      ['data cut short', good.subarray(0, good.length - 4), "src: tensor 'scalar' has inconsistent offsets"],
      ['header not JSON', Buffer.concat([good.subarray(0, 8), Buffer.from('{"a": '.padEnd(Number(good.readBigUInt64LE(0)), ' '))]), 'src: corrupt safetensors header ('],
      ['header not an object', rawFile([1, 2]), 'src: corrupt safetensors header (not a JSON object)'],
      ['entry without a shape', rawFile({ t: { dtype: 'F32', data_offsets: [0, 4] } }, Buffer.alloc(4)), "src: corrupt safetensors header (tensor 't' needs a dtype"],
      ['negative offsets', rawFile({ t: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, Buffer.alloc(4)), "src: corrupt safetensors header (tensor 't' needs"],
      ['metadata not strings', rawFile({ __metadata__: { a: 1 } }), 'src: corrupt safetensors header (__metadata__ must map strings to strings)'],
      ['unsupported dtype', rawFile({ t: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, Buffer.alloc(8)), "src: tensor 't' has dtype I64; only F32, F64, F16 and BF16 are supported"],
      ['size disagrees with shape', rawFile({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, Buffer.alloc(8)), "src: tensor 't' has inconsistent offsets [0, 8] for shape [3] F32"],
    ];
    for (const [label, buffer, message] of cases) {
      let error: Error | undefined;
      try {
        loadSafetensorsBuffer(buffer, {}, 'src');
      } catch (e) {
        error = e as Error;
      }
      if (!error || !error.message.startsWith(message)) throw new Error(`${label}: expected an error starting with "${message}", got ${error ? `"${error.message}"` : 'none'}`);
    }
    expect(live()).toBe(before);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdsr-safetensors-'));
    try {
      const file = path.join(dir, 'cut.safetensors');
      fs.writeFileSync(file, good.subarray(0, 40));
      expect(() => readSafetensorsHeader(file)).toThrow(`${file}: truncated safetensors file`);
      expect(() => loadSafetensors(file)).toThrow(`${file}: truncated safetensors file`);
      expect(() => loadSafetensors(path.join(dir, 'missing.safetensors'))).toThrow('ENOENT');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
