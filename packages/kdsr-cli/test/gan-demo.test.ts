// A small real-world training demonstration on the CPU, at CI length: the three KDSR-GAN stages on
// ../shared/datasets/train (370 photos) with Real-ESRGAN's second-order degradations and the pair
// pool — a tiny teacher and student, 20 updates each, then 200 stage-3 updates of the student
// against an 8-feature U-Net discriminator, the perceptual loss on the fixtures' channel-reduced
// VGG19 standing in for torchvision's. Checked from the run's log: every loss of every update is
// finite, and the discriminator learns — its mean logit on the real HR patches rises above its
// mean logit on the student's SR of the same batch, clearly over the last 100 updates, where at
// the first update the two are at chance (BCE ln 2 each).
import * as fs from 'fs';
import * as path from 'path';
import { saveSafetensors, testing } from '@kdsr/cuda';
import type { GanProgressEvent } from '@kdsr/core';
import { datasetsDir, kdsrOk, ONE_THREAD, scratchDir } from './helpers';

const STAGE3_UPDATES = 200;
const LAST = 100;

test('KDSR-GAN trains end to end on real photos: finite losses, and the discriminator tells real from fake', () => {
  const { dir, cleanup } = scratchDir();
  try {
    saveSafetensors(path.join(dir, 'vgg.safetensors'), testing.fixtureGroup('gan.safetensors', 'percep.vgg.'));
    const common = ['--data', path.join(datasetsDir(), 'train'), '--out', 'run', '--degradation', 'realesrgan', '--batch', '2', '--patch', '24', '--workers', '1', '--seed', '1'];
    const run = (args: string[]) => kdsrOk(['train', ...common, ...args], dir, { env: ONE_THREAD });
    run(['--stage', '1', '--n-feats', '8', '--n-blocks', '2', '--n-resblocks', '1', '--lr', '1e-3', '--steps', '20']);
    run(['--stage', '2', '--lr', '1e-3', '--steps', '20']);
    const out = run(['--stage', '3', '--vgg', 'vgg.safetensors', '--d-feats', '8', '--d-lr', '1e-3', '--steps', String(STAGE3_UPDATES), '--log-every', '1', '--save-every', String(STAGE3_UPDATES)]);
    expect(out).toMatch(/realesrgan degradation, pool of 180 pairs/);

    const log = fs
      .readFileSync(path.join(dir, 'run', 'stage3.log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string } & GanProgressEvent)
      .filter((e) => e.type === 'progress');
    expect(log.map((e) => e.step)).toEqual(Array.from({ length: STAGE3_UPDATES }, (_, i) => i + 1));
    for (const e of log) {
      const values = { ...e.losses, ...e.discriminatorOutput, gradNorm: e.gradNorm, discriminatorGradNorm: e.discriminatorGradNorm };
      expect({ step: e.step, finite: Object.values(values).every(Number.isFinite) }).toEqual({ step: e.step, finite: true });
    }
    // At the start the discriminator guesses: each BCE is ln 2 and the logits agree.
    const first = log[0];
    for (const bce of [first.losses.dReal, first.losses.dFake]) expect(Math.abs(bce - Math.LN2)).toBeLessThan(0.05);
    expect(Math.abs(first.discriminatorOutput.real - first.discriminatorOutput.fake)).toBeLessThan(0.1);
    // Over the last updates: real above fake, by a margin and far beyond the noise of batches of 2.
    const gaps = log.slice(-LAST).map((e) => e.discriminatorOutput.real - e.discriminatorOutput.fake);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / (gaps.length - 1));
    const dLoss = log.slice(-LAST).reduce((a, e) => a + e.losses.dReal + e.losses.dFake, 0) / LAST;
    expect({ mean: mean > 0.1, standardErrors: mean / (sd / Math.sqrt(LAST)) > 4, dLossBelowChance: dLoss < 2 * Math.LN2 - 0.02 }).toEqual({ mean: true, standardErrors: true, dLossBelowChance: true });
  } finally {
    cleanup();
  }
}, 300_000);
