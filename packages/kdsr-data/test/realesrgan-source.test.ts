// TrainingSource with Real-ESRGAN's second-order degradation (KDSR-GAN's stages): pairs of the final
// patch size with 8-bit LR levels, a restored position that continues bit for bit, and the
// training-pair pool, whose content a restored source makes again.
import * as path from 'path';
import { dispose } from '@kdsr/cuda';
import { hostImage, KDSRGAN_DEGRADATION, openHrFolder, TrainingSource, writeImage } from '../src';
import { randomArray, scratchDir } from './helpers';

describe('TrainingSource with the second-order degradation', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(async () => {
    ({ dir, cleanup } = scratchDir());
    for (let i = 0; i < 3; i++) {
      const im = hostImage(3, 80, 84);
      const r = randomArray(im.data.length, 300 + i, 0, 1);
      for (let k = 0; k < r.length; k++) im.data[k] = Math.min(Math.floor(r[k] * 256), 255) / 255;
      await writeImage(path.join(dir, 'hr', `im${i}.png`), im);
    }
  });
  afterAll(() => cleanup());

  // x2: the loader's 80px HR crops (the blurs need room at the smallest resize) degraded to 24px LR / 48px HR pairs.
  const make = async () =>
    new TrainingSource({
      dataset: await openHrFolder(path.join(dir, 'hr')),
      realesrgan: { options: { ...KDSRGAN_DEGRADATION, scale: 2, gtSize: 48 } },
      batchSize: 2,
      lrPatch: 40,
      scale: 2,
      seed: 3,
      workers: 1,
    });

  test('batches are 24px LR (8-bit levels) and 48px HR pairs; a restored position gives the same batches', async () => {
    const first = await make();
    const second = await make();
    try {
      const batch = async (source: TrainingSource) => {
        const { lr, hr } = await source.nextBatch();
        expect([lr.shape, hr.shape]).toEqual([[2, 3, 24, 24], [2, 3, 48, 48]]);
        const out = { lr: Float32Array.from(lr.toArray()), hr: Float32Array.from(hr.toArray()) };
        dispose([lr, hr]);
        return out;
      };
      const b0 = await batch(first);
      expect(b0.lr.every((v) => Math.abs(v * 255 - Math.round(v * 255)) < 1e-4 && v >= 0 && v <= 1)).toBe(true);
      const state = JSON.parse(JSON.stringify(first.saveState()));
      expect(state.stream.secondOrderGt).toBe(48);
      const expected = [await batch(first), await batch(first)];
      second.restoreState(state);
      for (const e of expected) expect(await batch(second)).toEqual(e);
      expect(expected[0].lr).not.toEqual(b0.lr);
    } finally {
      await first.close();
      await second.close();
    }
  });

  test('with the training-pair pool: pooled pairs are earlier pairs, and a restored source makes the pool again and continues bit for bit', async () => {
    const pooled = async (pool: number) =>
      new TrainingSource({
        dataset: await openHrFolder(path.join(dir, 'hr')),
        realesrgan: { options: { ...KDSRGAN_DEGRADATION, scale: 2, gtSize: 48 }, pool },
        batchSize: 2,
        lrPatch: 40,
        scale: 2,
        seed: 3,
        workers: 1,
      });
    const [plain, first, second] = [await make(), await pooled(4), await pooled(4)];
    const batch = async (source: TrainingSource) => {
      const { lr, hr } = await source.nextBatch();
      const samples = (t: typeof lr) => Array.from({ length: 2 }, (_, k) => Buffer.from(t.toFloat32Array().slice((k * t.size) / 2, ((k + 1) * t.size) / 2).buffer));
      const out = { lr: samples(lr), hr: samples(hr) };
      dispose([lr, hr]);
      return out;
    };
    try {
      // Without a pool, the stream of pairs; with one, the first Q/b = 2 batches pass through.
      const made: Array<{ lr: Buffer[]; hr: Buffer[] }> = [];
      for (let i = 0; i < 5; i++) made.push(await batch(plain));
      const early = [await batch(first), await batch(first)];
      expect(early).toEqual(made.slice(0, 2));
      const later: typeof made = [];
      for (let i = 2; i < 5; i++) later.push(await batch(first));
      // Each pooled pair is one made earlier (LR and HR together), never one of the batch just made.
      later.forEach((b, i) =>
        b.lr.forEach((lr, k) => {
          const from = made.slice(0, i + 2).flatMap((m) => m.lr.map((l, j) => ({ lr: l, hr: m.hr[j] }))).find((p) => p.lr.equals(lr));
          expect({ i, k, earlier: from !== undefined && from.hr.equals(b.hr[k]) }).toEqual({ i, k, earlier: true });
        }),
      );
      expect(later.some((b, i) => !b.lr[0].equals(made[i + 2].lr[0]))).toBe(true);

      const state = JSON.parse(JSON.stringify(first.saveState()));
      expect(state.stream.pool).toBe(4);
      expect(state.pool.pairs).toHaveLength(4);
      const expected = [await batch(first), await batch(first), await batch(first)];
      second.restoreState(state);
      expect(second.saveState()).toEqual(state);
      for (const e of expected) expect(await batch(second)).toEqual(e);
      // A position without the pool (or of a source without one) is refused.
      expect(() => second.restoreState({ ...state, pool: undefined })).toThrow(/the saved position has no valid training-pair pool/);
      expect(() => plain.restoreState(state)).toThrow(/belongs to another data stream \(pool 4 there, undefined here\)/);
    } finally {
      for (const s of [plain, first, second]) await s.close();
    }
  });

  test('a final patch larger than the crop, or another scale, is refused', async () => {
    const dataset = await openHrFolder(path.join(dir, 'hr'));
    expect(() => new TrainingSource({ dataset, realesrgan: { options: { ...KDSRGAN_DEGRADATION, scale: 2, gtSize: 96 } }, batchSize: 2, lrPatch: 40, scale: 2 })).toThrow(
      'TrainingSource: the second-order degradation needs scale 2 (got 2) and a final HR patch of at most the 80px crop (got 96)',
    );
    expect(() => new TrainingSource({ dataset, realesrgan: { options: KDSRGAN_DEGRADATION }, batchSize: 2, lrPatch: 40, scale: 2 })).toThrow(/needs scale 2 \(got 4\)/);
  });
});
