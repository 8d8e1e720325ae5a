// PrefetchingSource: TrainingSource's batches, bit for bit, made in a worker thread a batch ahead;
// its saved position is that of the batches handed out, so a resumed source continues exactly.
import * as path from 'path';
import { dispose, numThreads, setNumThreads } from '@kdsr/cuda';
import { ClassicSampler, HostImage, hostImage, openHrFolder, PrefetchingSource, PrefetchingSourceOptions, TrainingSource, writeImage } from '../src';
import { randomArray, scratchDir } from './helpers';

function levelImage(height: number, width: number, seed: number): HostImage {
  const im = hostImage(3, height, width);
  const r = randomArray(im.data.length, seed, 0, 1);
  for (let i = 0; i < r.length; i++) im.data[i] = Math.min(Math.floor(r[i] * 256), 255) / 255;
  return im;
}

const bytes = (t: { toArray(): ArrayLike<number> & { buffer: ArrayBufferLike } }) => Buffer.from(t.toArray().buffer as ArrayBuffer);

async function take(source: TrainingSource | PrefetchingSource, n: number): Promise<Array<{ lr: Buffer; hr: Buffer }>> {
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

function expectSameBatches(got: Array<{ lr: Buffer; hr: Buffer }>, expected: Array<{ lr: Buffer; hr: Buffer }>): void {
  expect(got.length).toBe(expected.length);
  got.forEach((b, i) => expect({ i, lr: b.lr.equals(expected[i].lr), hr: b.hr.equals(expected[i].hr) }).toEqual({ i, lr: true, hr: true }));
}

describe('PrefetchingSource', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(async () => {
    ({ dir, cleanup } = scratchDir());
    // Five usable images and one too small for the 24px HR patch: 2 complete batches per epoch.
    const sizes: Array<[number, number]> = [[40, 36], [33, 48], [24, 30], [30, 24], [28, 28], [16, 40]];
    for (let i = 0; i < sizes.length; i++) await writeImage(path.join(dir, 'hr', `im${i}.png`), levelImage(sizes[i][0], sizes[i][1], 100 + i));
  });
  afterAll(() => cleanup());

  const options = async (seed = 5): Promise<PrefetchingSourceOptions> => ({
    dataset: await openHrFolder(path.join(dir, 'hr')),
    sampler: new ClassicSampler({ blur: 'aniso', noiseLevel: 25 }),
    batchSize: 2,
    lrPatch: 6,
    scale: 4,
    seed,
    workers: 1,
  });

  test('hands out the batches of TrainingSource bit for bit, across epochs, whatever the thread counts', async () => {
    const threads = numThreads();
    setNumThreads(3);
    const reference = new TrainingSource(await options());
    const prefetching = new PrefetchingSource({ ...(await options()), ahead: 2, threads: 1 });
    try {
      const expected = await take(reference, 5);
      expectSameBatches(await take(prefetching, 5), expected);
      expect(prefetching.saveState()).toEqual(reference.saveState());
    } finally {
      setNumThreads(threads);
      await reference.close();
      await prefetching.close();
    }
  });

  test('its position is that of the batches handed out: restored into a fresh source, the same batches follow', async () => {
    const first = new PrefetchingSource(await options());
    const second = new PrefetchingSource(await options());
    try {
      const start = first.saveState();
      expect(start).toMatchObject({ epoch: 0, position: 0, batches: 0 });
      await take(first, 3);
      // The worker has made batch 4 by now; the position is still after batch 3.
      const state = JSON.parse(JSON.stringify(first.saveState()));
      expect(state).toMatchObject({ epoch: 1, position: expect.any(Number), batches: 1 });
      const expected = await take(first, 4);
      second.restoreState(state);
      expectSameBatches(await take(second, 4), expected);
      // Restoring a source that has made batches ahead drops them.
      second.restoreState(start);
      const fromStart = new TrainingSource(await options());
      try {
        expectSameBatches(await take(second, 3), await take(fromStart, 3));
      } finally {
        await fromStart.close();
      }
    } finally {
      await first.close();
      await second.close();
    }
  });

  test('clear errors: bad options and positions on the calling thread, data errors from the worker', async () => {
    await expect(options().then((o) => new PrefetchingSource({ ...o, ahead: 0 }))).rejects.toThrow('PrefetchingSource: ahead must be a positive integer, got 0');
    const dataset = await openHrFolder(path.join(dir, 'hr'));
    expect(() => new PrefetchingSource({ dataset, batchSize: 2, lrPatch: 6, scale: 4 })).toThrow(/needs a degradation sampler/);
    const source = new PrefetchingSource(await options(5));
    const other = new PrefetchingSource(await options(6));
    try {
      expect(() => other.restoreState(source.saveState())).toThrow(/another data stream \(seed 5 there, 6 here\)/);
    } finally {
      await source.close();
      await other.close();
    }
    const tooBig = new PrefetchingSource({ dataset, sampler: new ClassicSampler({ blur: 'iso' }), batchSize: 2, lrPatch: 20, scale: 4, workers: 1 });
    try {
      await expect(tooBig.nextBatch()).rejects.toThrow(/epoch 0 gave no complete batch of 2 \(6 draws too small for a 80px HR patch/);
    } finally {
      await tooBig.close();
    }
  });
});
