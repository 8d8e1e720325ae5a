import { clamp, quantize, Tensor, tidy } from '@kdsr/cuda';
import {
  blur,
  cropTensor,
  degradeSecondOrder,
  jpegCompress,
  KDSRGAN_DEGRADATION,
  KERNEL_TYPES,
  KernelDraw,
  RandomStream,
  REALESRGAN_KERNELS,
  sampleKernels,
  SecondOrderOptions,
  torchResize,
  TrainingPairPool,
} from '../src';
import { expectClose, randomArray } from './helpers';

/** |count - n p| within 5 binomial standard deviations. */
function expectFrequency(count: number, n: number, p: number, label: string): void {
  const sd = Math.sqrt(n * p * (1 - p));
  if (!(Math.abs(count - n * p) <= 5 * sd + 1e-9)) throw new Error(`${label}: ${count} of ${n}, expected ${n * p} ± ${5 * sd}`);
}

function smoothBatch(b: number, h: number, w: number, seed: number): Tensor {
  const r = randomArray(b * 3 * h * w, seed, 0, 1);
  const data = Float32Array.from(r, (v, i) => 0.5 + 0.3 * Math.sin(i / 23) * Math.cos(i / 97) + 0.1 * (v - 0.5));
  return Tensor.fromArray(data, [b, 3, h, w]);
}

describe('Real-ESRGAN kernel sampler', () => {
  const n = 3000;
  const draws: Array<{ k1: KernelDraw; k2: KernelDraw; sinc: KernelDraw }> = [];
  beforeAll(() => {
    const stream = new RandomStream(2024);
    for (let i = 0; i < n; i++) {
      const s = sampleKernels(stream);
      if (i < 200)
        for (const k of [s.k1, s.k2, s.sinc]) {
          expect(k.size).toBe(21);
          expect(Math.abs(k.data.reduce((a, v) => a + v, 0) - 1)).toBeLessThan(1e-9);
        }
      draws.push(s.draws);
    }
  });

  test('sinc probability 0.1 for k1/k2 and 0.8 for the final kernel', () => {
    expectFrequency(draws.filter((d) => d.k1.family === 'sinc').length, n, 0.1, 'k1 sinc');
    expectFrequency(draws.filter((d) => d.k2.family === 'sinc').length, n, 0.1, 'k2 sinc');
    expectFrequency(draws.filter((d) => d.sinc.family === 'sinc').length, n, 0.8, 'final sinc');
  });

  test('sizes uniform over 7..21 odd; sinc cutoffs by size', () => {
    for (const size of REALESRGAN_KERNELS.sizes) expectFrequency(draws.filter((d) => 'size' in d.k1 && d.k1.size === size).length, n, 1 / 8, `size ${size}`);
    for (const d of draws) {
      for (const k of [d.k1, d.k2])
        if (k.family === 'sinc') {
          expect(k.cutoff).toBeLessThan(Math.PI);
          expect(k.cutoff).toBeGreaterThanOrEqual(k.size < 13 ? Math.PI / 3 : Math.PI / 5);
        }
      if (d.sinc.family === 'sinc') expect(d.sinc.cutoff).toBeGreaterThanOrEqual(Math.PI / 3);
    }
  });

  test('type probabilities, σ ranges, isotropy and β branches', () => {
    const mixed = draws.map((d) => d.k1).filter((k) => k.family !== 'sinc' && k.family !== 'impulse');
    KERNEL_TYPES.forEach((t, i) => expectFrequency(mixed.filter((k) => k.family === t).length, mixed.length, REALESRGAN_KERNELS.stage1.typeProbabilities[i], t));
    let plateauOne = 0;
    let plateau = 0;
    for (const k of mixed) {
      expect(k.shape.sigmaX >= 0.2 && k.shape.sigmaX < 3).toBe(true);
      if (k.family.endsWith('iso') && !k.family.endsWith('aniso')) {
        expect(k.shape.sigmaY).toBe(k.shape.sigmaX);
        expect(k.shape.theta).toBe(0);
      } else expect(k.shape.theta >= -Math.PI && k.shape.theta < Math.PI).toBe(true);
      if (k.family.startsWith('plateau')) {
        plateau++;
        if (k.beta === 1) plateauOne++;
        expect(k.beta >= 1 && k.beta < 2).toBe(true);
      }
      if (k.family.startsWith('generalized')) expect(k.beta >= 0.5 && k.beta < 4).toBe(true);
    }
    expectFrequency(plateauOne, plateau, 0.5, 'plateau beta = 1');
    for (const d of draws) if (d.k2.family !== 'sinc' && d.k2.family !== 'impulse') expect(d.k2.shape.sigmaX < 1.5).toBe(true);
  });
});

describe('second-order pipeline', () => {
  const small: SecondOrderOptions = { ...KDSRGAN_DEGRADATION, gtSize: 64 };

  function kernelsFor(b: number, stream: RandomStream) {
    const s = Array.from({ length: b }, () => sampleKernels(stream));
    return { k1: s.map((k) => k.k1), k2: s.map((k) => k.k2), sinc: s.map((k) => k.sinc) };
  }

  test('shapes, 8-bit LQ, aligned GT crop, reproducible from the seed', () => {
    tidy(() => {
      const gt = smoothBatch(2, 160, 160, 1);
      const run = (seed: number) => {
        const stream = new RandomStream(seed);
        return degradeSecondOrder(gt, kernelsFor(2, stream), stream, small);
      };
      const a = run(7);
      const b = run(7);
      const c = run(8);
      expect(a.lq.shape).toEqual([2, 3, 16, 16]);
      expect(a.gt.shape).toEqual([2, 3, 64, 64]);
      expect(() => degradeSecondOrder(smoothBatch(1, 128, 128, 1), kernelsFor(1, new RandomStream(1)), new RandomStream(1), small)).toThrow(/can shrink to 9 pixels/);
      expect(Array.from(a.lq.toArray())).toEqual(Array.from(b.lq.toArray()));
      expect(a.trace).toEqual(b.trace);
      expect(c.trace).not.toEqual(a.trace);
      for (const v of a.lq.toArray()) expect(Math.abs(v * 255 - Math.round(v * 255))).toBeLessThan(1e-4);
      expectClose(a.gt, cropTensor(gt, 4 * a.trace.crop.top, 4 * a.trace.crop.left, 64, 64), 0, 'gt crop');
      const t = a.trace;
      expect(t.jpeg1.every((q) => q >= 30 && q < 95)).toBe(true);
      expect(t.resize1.factor >= 0.15 && t.resize1.factor < 1.5).toBe(true);
      expect(t.resize2.size[0] >= Math.floor(40 * 0.3) && t.resize2.size[0] <= 40 * 1.2).toBe(true);
    });
  });

  test('the drawn choices have the configured frequencies', () => {
    // Cheap runs (tiny GT) to count per-batch choices.
    const stream = new RandomStream(99);
    const gt = smoothBatch(1, 160, 160, 2);
    const runs = 200;
    const counts = { up: 0, down: 0, keep: 0, gauss1: 0, blur2: 0, resizeFirst: 0 };
    for (let i = 0; i < runs; i++)
      tidy(() => {
        const t = degradeSecondOrder(gt, kernelsFor(1, stream), stream, small).trace;
        if (t.resize1.factor > 1) counts.up++;
        else if (t.resize1.factor < 1) counts.down++;
        else counts.keep++;
        if (t.noise1.type === 'gaussian') counts.gauss1++;
        if (t.blur2) counts.blur2++;
        if (t.finalOrder === 'resize-sinc-jpeg') counts.resizeFirst++;
      });
    expectFrequency(counts.up, runs, 0.2, 'up');
    expectFrequency(counts.down, runs, 0.7, 'down');
    expectFrequency(counts.keep, runs, 0.1, 'keep');
    expectFrequency(counts.gauss1, runs, 0.5, 'gaussian stage 1');
    expectFrequency(counts.blur2, runs, 0.8, 'second blur');
    expectFrequency(counts.resizeFirst, runs, 0.5, 'final order');
  });

  test('with zero noise the LQ is the documented composition of the traced operations', () => {
    tidy(() => {
      const zeroNoise = { gaussianProb: 1, gaussianSigmaRange: [0, 0] as [number, number], poissonScaleRange: [0, 0] as [number, number], grayProb: 0 };
      const options: SecondOrderOptions = { ...small, noise1: zeroNoise, noise2: zeroNoise };
      const gt = smoothBatch(2, 160, 160, 3);
      for (const seed of [1, 2, 3, 4]) {
        const stream = new RandomStream(seed);
        const kernels = kernelsFor(2, stream);
        const { lq, trace: t } = degradeSecondOrder(gt, kernels, stream, options);
        let x = torchResize(blur(gt, kernels.k1), t.resize1.mode, { scaleFactor: t.resize1.factor });
        x = jpegCompress(clamp(x, 0, 1), t.jpeg1);
        if (t.blur2) x = blur(x, kernels.k2);
        x = clamp(torchResize(x, t.resize2.mode, { size: t.resize2.size }), 0, 1);
        if (t.finalOrder === 'resize-sinc-jpeg') x = jpegCompress(blur(torchResize(x, t.finalMode, { size: [40, 40] }), kernels.sinc), t.jpeg2);
        else x = blur(torchResize(jpegCompress(x, t.jpeg2), t.finalMode, { size: [40, 40] }), kernels.sinc);
        const expected = cropTensor(quantize(x, 255), t.crop.top, t.crop.left, 16, 16);
        expectClose(lq, expected, 1e-6, `seed ${seed}`);
      }
    });
  });
});

describe('training-pair pool', () => {
  /** A batch whose pair k is constant `ids[k]` in both LQ and GT. */
  function tagged(ids: number[]): { lq: Tensor; gt: Tensor } {
    const lq = Float32Array.from({ length: ids.length * 3 * 2 * 2 }, (_, i) => ids[Math.floor(i / 12)]);
    const gt = Float32Array.from({ length: ids.length * 3 * 8 * 8 }, (_, i) => ids[Math.floor(i / 192)]);
    return { lq: Tensor.fromArray(lq, [ids.length, 3, 2, 2]), gt: Tensor.fromArray(gt, [ids.length, 3, 8, 8]) };
  }
  const idsOf = (t: Tensor, per: number) => Array.from({ length: t.shape[0] }, (_, k) => t.toArray()[k * per]);

  test('passes batches through while filling (Q/b batches), then swaps; pairs stay aligned', () => {
    tidy(() => {
      const pool = new TrainingPairPool(6, 2);
      const stream = new RandomStream(1);
      for (let i = 0; i < 3; i++) {
        const out = pool.exchange(tagged([2 * i, 2 * i + 1]).lq, tagged([2 * i, 2 * i + 1]).gt, stream);
        expect(idsOf(out.lq, 12)).toEqual([2 * i, 2 * i + 1]);
      }
      expect(pool.count).toBe(6);
      const inPool = new Set([0, 1, 2, 3, 4, 5]);
      for (let i = 3; i < 40; i++) {
        const batch = tagged([2 * i, 2 * i + 1]);
        const out = pool.exchange(batch.lq, batch.gt, stream);
        const lqIds = idsOf(out.lq, 12);
        expect(idsOf(out.gt, 192)).toEqual(lqIds);
        for (const id of lqIds) {
          expect(inPool.has(id)).toBe(true);
          inPool.delete(id);
        }
        inPool.add(2 * i);
        inPool.add(2 * i + 1);
      }
    });
  });

  test('spec 25: with Q 180 and b 9 the first swap happens at iteration 21', () => {
    tidy(() => {
      const pool = new TrainingPairPool(180, 9);
      const stream = new RandomStream(5);
      for (let it = 1; it <= 21; it++) {
        const ids = Array.from({ length: 9 }, (_, k) => it * 100 + k);
        const out = pool.exchange(tagged(ids).lq, tagged(ids).gt, stream);
        const same = idsOf(out.lq, 12).every((v, k) => v === ids[k]);
        expect(same).toBe(it <= 20);
      }
    });
  });

  test('each pooled pair leaves with probability b/Q per swap', () => {
    tidy(() => {
      const pool = new TrainingPairPool(8, 2);
      const stream = new RandomStream(9);
      for (let i = 0; i < 4; i++) pool.exchange(tagged([i * 2, i * 2 + 1]).lq, tagged([i * 2, i * 2 + 1]).gt, stream);
      // Keep re-inserting the returned pairs: the pool content is always ids 0..7.
      let batch = tagged([100, 101]);
      const leaves = new Array<number>(8).fill(0);
      const swaps = 2000;
      let back = [100, 101];
      for (let s = 0; s < swaps; s++) {
        const out = pool.exchange(batch.lq, batch.gt, stream);
        const ids = idsOf(out.lq, 12);
        for (const id of ids) if (id < 8) leaves[id]++;
        batch = tagged(back);
        back = ids;
      }
      // Ids circulate, so count only the 8 original ones while they were in the pool: each leaves
      // roughly equally often.
      const total = leaves.reduce((a, v) => a + v, 0);
      for (const c of leaves) expectFrequency(c, total, 1 / 8, 'leave');
    });
  });
});
