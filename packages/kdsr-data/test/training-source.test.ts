// The trainer's data source: endless epochs, LR synthesised per batch from the documented stream,
// and a saved position that, restored into a fresh source, gives the same following batches bit for bit.
import * as path from 'path';
import { dispose } from '@kdsr/cuda';
import { ClassicSampler, degradeWithSampler, HostImage, hostImage, openHrFolder, PatchLoader, RandomStream, TrainingSource, writeImage } from '../src';
import { randomArray, scratchDir } from './helpers';

function levelImage(height: number, width: number, seed: number): HostImage {
  const im = hostImage(3, height, width);
  const r = randomArray(im.data.length, seed, 0, 1);
  for (let i = 0; i < r.length; i++) im.data[i] = Math.min(Math.floor(r[i] * 256), 255) / 255;
  return im;
}

const bytes = (t: { toArray(): ArrayLike<number> & { buffer: ArrayBufferLike } }) => Buffer.from(t.toArray().buffer as ArrayBuffer);

async function take(source: TrainingSource, n: number): Promise<Array<{ lr: Buffer; hr: Buffer }>> {
  const out: Array<{ lr: Buffer; hr: Buffer }> = [];
  for (let i = 0; i < n; i++) {
    const { lr, hr } = await source.nextBatch();
    expect(lr.shape).toEqual([2, 3, 6, 6]);
    expect(hr.shape).toEqual([2, 3, 24, 24]);
    out.push({ lr: bytes(lr), hr: bytes(hr) });
    dispose([lr, hr]);
  }
  return out;
}

describe('TrainingSource', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(async () => {
    ({ dir, cleanup } = scratchDir());
    // Five usable images and one too small for the 24px HR patch: 2 complete batches per epoch.
    const sizes: Array<[number, number]> = [[40, 36], [33, 48], [24, 30], [30, 24], [28, 28], [16, 40]];
    for (let i = 0; i < sizes.length; i++) await writeImage(path.join(dir, 'hr', `im${i}.png`), levelImage(sizes[i][0], sizes[i][1], 100 + i));
  });
  afterAll(() => cleanup());

  const make = async (seed = 5) =>
    new TrainingSource({
      dataset: await openHrFolder(path.join(dir, 'hr')),
      sampler: new ClassicSampler({ blur: 'aniso', noiseLevel: 25 }),
      batchSize: 2,
      lrPatch: 6,
      scale: 4,
      seed,
      workers: 1,
    });

  test('a restored position continues with the same batches, across epoch boundaries', async () => {
    const first = await make();
    const second = await make();
    try {
      await take(first, 3);
      const state = JSON.parse(JSON.stringify(first.saveState()));
      expect(state).toMatchObject({ epoch: 1, position: expect.any(Number), batches: 1 });
      const expected = await take(first, 5);
      second.restoreState(state);
      const resumed = await take(second, 5);
      resumed.forEach((b, i) => {
        expect({ i, lr: b.lr.equals(expected[i].lr), hr: b.hr.equals(expected[i].hr) }).toEqual({ i, lr: true, hr: true });
      });
      // The stream moves on: consecutive batches differ.
      expect(expected[0].hr.equals(expected[1].hr)).toBe(false);
    } finally {
      await first.close();
      await second.close();
    }
  });

  test('restoring into a source that has already run discards what it had prefetched', async () => {
    const a = await make();
    const b = await make();
    try {
      const start = a.saveState();
      const expected = await take(a, 3);
      await take(b, 4);
      b.restoreState(start);
      const again = await take(b, 3);
      again.forEach((x, i) => expect(x.lr.equals(expected[i].lr) && x.hr.equals(expected[i].hr)).toBe(true));
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('the LR of batch b of epoch e is the classic degradation of its HR with stream fork(e).fork(b)', async () => {
    const source = await make(9);
    const loader = new PatchLoader({ dataset: await openHrFolder(path.join(dir, 'hr')), batchSize: 2, lrPatch: 6, scale: 4, seed: 9, workers: 1 });
    const sampler = new ClassicSampler({ blur: 'aniso', noiseLevel: 25 });
    try {
      const got = await take(source, 4);
      let k = 0;
      for (const epoch of [0, 1])
        for await (const batch of loader.epoch(epoch)) {
          const ref = degradeWithSampler(batch.hr, sampler, new RandomStream(9).fork(epoch).fork(batch.index), 4);
          expect(bytes(ref.hr).equals(got[k].hr)).toBe(true);
          expect(bytes(ref.lr).equals(got[k].lr)).toBe(true);
          dispose([batch.hr, ref.hr, ref.lr, ref.lrPrequant]);
          k++;
        }
      expect(k).toBe(4);
    } finally {
      await source.close();
      await loader.close();
    }
  });

  test('clear errors: a position from another stream, an epoch without a complete batch, HR data without a sampler', async () => {
    const source = await make(5);
    const other = await make(6);
    try {
      expect(() => other.restoreState(source.saveState())).toThrow(/another data stream \(seed 5 there, 6 here\)/);
      expect(() => other.restoreState({ epoch: 'x' })).toThrow(/not a saved training-source position/);
    } finally {
      await source.close();
      await other.close();
    }
    const dataset = await openHrFolder(path.join(dir, 'hr'));
    const sampler = new ClassicSampler({ blur: 'iso' });
    const tooBig = new TrainingSource({ dataset, sampler, batchSize: 2, lrPatch: 20, scale: 4, workers: 1 });
    try {
      await expect(tooBig.nextBatch()).rejects.toThrow(/epoch 0 gave no complete batch of 2 \(6 draws too small for a 80px HR patch/);
    } finally {
      await tooBig.close();
    }
    expect(() => new TrainingSource({ dataset, batchSize: 2, lrPatch: 6, scale: 4 })).toThrow(/needs a degradation sampler/);
  });
});
