// @kdsr/data's TrainingSource is @kdsr/core's DataSource: it type-checks as one (this file is
// compiled by ts-jest), drives the Trainer, and its position saved in a checkpoint lets a fresh
// trainer and source continue with exactly the updates of an uninterrupted run.
import * as fs from 'fs';
import * as path from 'path';
import { DataSource, kdsrConfig, KdsrTeacher, Trainer } from '@kdsr/core';
import { ClassicSampler, openHrFolder, TrainingSource } from '@kdsr/data';
import { scratchDir, tensorBytes, writeTestPng } from './helpers';

describe('TrainingSource as the trainer\'s DataSource', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(async () => {
    ({ dir, cleanup } = scratchDir());
    for (let i = 0; i < 3; i++) await writeTestPng(path.join(dir, 'hr', `im${i}.png`), 40, 40, i + 1);
  });
  afterAll(() => cleanup());

  const config = kdsrConfig('custom', { nFeats: 4, nBlocks: 1, nResblocks: 1, scale: 2 });

  async function setup(): Promise<{ trainer: Trainer; source: TrainingSource; teacher: KdsrTeacher }> {
    const source = new TrainingSource({
      dataset: await openHrFolder(path.join(dir, 'hr')),
      sampler: new ClassicSampler({ blur: 'aniso', noiseLevel: 25 }),
      batchSize: 2,
      lrPatch: 8,
      scale: 2,
      seed: 3,
      workers: 1,
    });
    const data: DataSource = source;
    const teacher = new KdsrTeacher(config, { seed: 1 });
    return { trainer: new Trainer({ stage: 1, teacher, data, optimizer: { lr: 1e-3 } }), source, teacher };
  }

  test('drives the trainer and resumes it exactly from a checkpoint', async () => {
    const whole = await setup();
    const first = await setup();
    const second = await setup();
    try {
      const losses: number[] = [];
      for (let i = 0; i < 4; i++) losses.push((await whole.trainer.step()).losses.total);
      expect(losses.every(Number.isFinite)).toBe(true);
      // Three images make one complete batch of two per epoch: the four updates span four epochs.
      expect(whole.source.saveState()).toMatchObject({ epoch: 3, position: 2, batches: 1 });

      await first.trainer.step();
      await first.trainer.step();
      await first.trainer.step();
      fs.mkdirSync(path.join(dir, 'ckpt'));
      const base = path.join(dir, 'ckpt', 'teacher');
      first.trainer.saveCheckpoint(base);
      second.trainer.loadCheckpoint(base);
      expect(second.source.saveState()).toEqual(first.source.saveState());
      expect((await second.trainer.step()).losses.total).toBe(losses[3]);
      whole.trainer.saveCheckpoint(path.join(dir, 'ckpt', 'whole'));
      second.trainer.saveCheckpoint(path.join(dir, 'ckpt', 'resumed'));
      const a = tensorBytes(path.join(dir, 'ckpt', 'whole.safetensors'));
      const b = tensorBytes(path.join(dir, 'ckpt', 'resumed.safetensors'));
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      for (const [k, bytes] of a) expect({ k, equal: bytes.equals(b.get(k)!) }).toEqual({ k, equal: true });
    } finally {
      for (const s of [whole, first, second]) {
        await s.source.close();
        s.trainer.dispose();
        s.teacher.dispose();
      }
    }
  });
});
