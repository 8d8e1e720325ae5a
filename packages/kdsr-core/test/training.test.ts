// The training pieces around the fixture trajectory: Adam against a host implementation (both β
// settings), learning-rate schedules, EMA, the gradient norm, NaN/Inf detection, KD-only warm-up,
// validation and progress events, and the memory of repeated steps.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { memory, Tensor, tidy } from '@kdsr/cuda';
import { backward } from '../src/autograd/backward';
import * as F from '../src/autograd/functional';
import { checkpointPaths } from '../src/checkpoint/checkpoint';
import { loadKdsrModel } from '../src/checkpoint/convert';
import { kdsrConfig } from '../src/models/config';
import { KdsrTeacher, studentFromTeacher } from '../src/models/kdsr';
import { Parameter } from '../src/nn/parameter';
import { Adam, ADAM_BETAS_GAN } from '../src/train/adam';
import type { Batch, DataSource } from '../src/train/data-source';
import { Ema } from '../src/train/ema';
import { gradNorm } from '../src/train/grad-norm';
import { learningRate } from '../src/train/schedule';
import { NonFiniteError } from '../src/train/stage-trainer';
import { Trainer } from '../src/train/trainer';
import { SeededSource } from './fixed-source';
import { expectClose, fixtureTensor, randomArray } from './helpers';

const TINY = kdsrConfig('custom', { nFeats: 4, nBlocks: 1, nResblocks: 1, scale: 2 });

/** torch.optim.Adam on the host, in float64. */
function hostAdam(p: number[], grads: number[][], lr: number, b1: number, b2: number, eps: number): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const w = p.slice();
  grads.forEach((g, t) => {
    const step = t + 1;
    for (let i = 0; i < w.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const mHat = m[i] / (1 - b1 ** step);
      const vHat = v[i] / (1 - b2 ** step);
      w[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
  });
  return w;
}

describe('Adam', () => {
  test.each([
    ['classic betas', { beta1: 0.9, beta2: 0.999 }],
    ['GAN betas', ADAM_BETAS_GAN],
  ])('three steps match a host implementation (%s)', (_, betas) => {
    const start = [0.5, -1, 2, 0.25];
    const grads = [[0.1, -0.2, 0.3, 0], [1, 2, -3, 0.5], [-0.5, 0.1, 0.2, -0.3]];
    const p = new Parameter(Tensor.fromArray(start, [4], { dtype: 'float64' }));
    const adam = new Adam([['p', p]], { lr: 0.01, ...betas });
    for (const g of grads) {
      p.accumulateGrad(Tensor.fromArray(g, [4], { dtype: 'float64' }));
      adam.step();
      p.zeroGrad();
    }
    const expected = hostAdam(start, grads, 0.01, betas.beta1, betas.beta2, 1e-8);
    Array.from(p.value.toArray()).forEach((x, i) => expect(x).toBeCloseTo(expected[i], 12));
    adam.dispose();
    p.dispose();
  });

  test('a parameter without a gradient is skipped and keeps its own step count (like torch)', () => {
    const a = new Parameter(Tensor.fromArray([1], [1], { dtype: 'float64' }));
    const b = new Parameter(Tensor.fromArray([1], [1], { dtype: 'float64' }));
    const adam = new Adam([['a', a], ['b', b]], { lr: 0.1 });
    a.accumulateGrad(Tensor.fromArray([1], [1], { dtype: 'float64' }));
    adam.step();
    a.zeroGrad();
    expect(b.value.toArray()[0]).toBe(1);
    for (const p of [a, b]) p.accumulateGrad(Tensor.fromArray([2], [1], { dtype: 'float64' }));
    adam.step();
    expect(adam.state().steps).toEqual({ a: 2, b: 1 });
    expect(b.value.toArray()[0]).toBeCloseTo(hostAdam([1], [[2]], 0.1, 0.9, 0.999, 1e-8)[0], 12);
    adam.dispose();
    a.dispose();
    b.dispose();
  });
});

test("Adam with KDSR-GAN's betas and EMA 0.999 match gan.safetensors' op.adam / op.ema (eps added after the bias correction of sqrt(v))", () => {
  const G = 'gan.safetensors';
  tidy(() => {
    const p = new Parameter(fixtureTensor(G, 'op.adam.param0').to('cpu'));
    const adam = new Adam([['p', p]], { lr: 1e-3, ...ADAM_BETAS_GAN, eps: 1e-8 });
    for (const k of [1, 2, 3]) {
      p.accumulateGrad(fixtureTensor(G, `op.adam.grad${k}`).to('cpu'));
      adam.step();
      p.zeroGrad();
      expectClose(p.value, fixtureTensor(G, `op.adam.param${k}`), 1e-5, `param${k}`);
    }
    const { tensors } = adam.state();
    expectClose(tensors.get('exp_avg.p')!, fixtureTensor(G, 'op.adam.exp_avg'), 1e-5, 'exp_avg');
    expectClose(tensors.get('exp_avg_sq.p')!, fixtureTensor(G, 'op.adam.exp_avg_sq'), 1e-5, 'exp_avg_sq');
    adam.dispose();
    p.dispose();

    const w = new Parameter(fixtureTensor(G, 'op.ema.ema0').to('cpu'));
    const ema = new Ema([['w', w]], 0.999);
    for (const k of [1, 2, 3]) {
      w.write(fixtureTensor(G, `op.ema.param${k}`).toArray() as Float32Array);
      ema.update();
      expectClose(ema.weights().get('w')!, fixtureTensor(G, `op.ema.ema${k}`), 1e-5, `ema${k}`);
    }
    ema.dispose();
    w.dispose();
  });
});

test('learning-rate schedules: constant, step decay and milestones', () => {
  expect([0, 99, 100, 250].map((t) => learningRate(1e-4, { type: 'step', stepSize: 100, gamma: 0.5 }, t))).toEqual([1e-4, 1e-4, 5e-5, 2.5e-5]);
  expect([0, 9, 10, 19, 20, 99].map((t) => learningRate(1, { type: 'multistep', milestones: [10, 20], gamma: 0.1 }, t))).toEqual([1, 1, 0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1]);
  expect(learningRate(3, { type: 'constant' }, 1e6)).toBe(3);
});

test('EMA: ema = decay·ema + (1 − decay)·param after each update', () => {
  const p = new Parameter(Tensor.fromArray([1, 2], [2], { dtype: 'float64' }));
  const ema = new Ema([['w', p]], 0.9);
  p.write(new Float64Array([3, 4]));
  ema.update();
  p.write(new Float64Array([5, 6]));
  ema.update();
  const expected = [0.9 * (0.9 * 1 + 0.1 * 3) + 0.1 * 5, 0.9 * (0.9 * 2 + 0.1 * 4) + 0.1 * 6];
  Array.from(ema.weights().get('w')!.toArray()).forEach((x, i) => expect(x).toBeCloseTo(expected[i], 12));
  ema.dispose();
  p.dispose();
});

test('the gradient norm is the L2 norm over all gradients; NaN propagates', () => {
  const a = new Parameter(Tensor.fromArray([0, 0], [2]));
  const b = new Parameter(Tensor.fromArray([0], [1]));
  a.accumulateGrad(Tensor.fromArray([3, 4], [2]));
  b.accumulateGrad(Tensor.fromArray([12], [1]));
  expect(gradNorm([a, b])).toBeCloseTo(13, 5);
  b.zeroGrad();
  b.accumulateGrad(Tensor.fromArray([NaN], [1]));
  expect(gradNorm([a, b])).toBeNaN();
  a.dispose();
  b.dispose();
});

/** Serves SeededSource batches, with NaN in the LR image from batch `poisonAt` on. */
class PoisonedSource implements DataSource {
  private readonly inner = new SeededSource(2, 6, 2, 7);
  private served = 0;
  constructor(private readonly poisonAt: number) {}
  nextBatch(): Batch {
    const batch = this.inner.nextBatch() as Batch;
    if (++this.served < this.poisonAt) return batch;
    const data = batch.lr.toFloat32Array();
    data[5] = NaN;
    batch.lr.dispose();
    return { lr: Tensor.fromArray(data, [2, 3, 6, 6]), hr: batch.hr };
  }
  saveState() {
    return { served: this.served, inner: this.inner.saveState() };
  }
  restoreState() {}
}

describe('Trainer', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdsr-trainer-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a NaN stops training with a clear error, leaves the weights and the last checkpoint as they were', async () => {
    const teacher = new KdsrTeacher(TINY, { seed: 3 });
    const trainer = new Trainer({ stage: 1, teacher, data: new PoisonedSource(3), optimizer: { lr: 1e-3 } });
    const file = path.join(dir, 'nan');
    await trainer.run(2, { checkpoint: { path: file, every: 2 } });
    const saved = fs.readFileSync(checkpointPaths(file).weights);
    const before = teacher.namedParameters().map(([, p]) => p.value.toArray());
    let error: unknown;
    await trainer.run(4, { checkpoint: { path: file, every: 1 } }).catch((e) => (error = e));
    expect(error).toBeInstanceOf(NonFiniteError);
    expect((error as Error).message).toMatch(/training diverged at update 3: the (total|l1) loss is NaN; the update was not applied/);
    expect(trainer.updates).toBe(2);
    teacher.namedParameters().forEach(([, p], i) => expect(Buffer.from(p.value.toArray().buffer).equals(Buffer.from(before[i].buffer))).toBe(true));
    expect(teacher.parameters().every((p) => p.grad === null)).toBe(true);
    expect(fs.readFileSync(checkpointPaths(file).weights).equals(saved)).toBe(true);
    trainer.dispose();
    teacher.dispose();
  });

  test('stage 2: KD-only warm-up leaves the generator untouched; events report losses, lr, samples/s; validation runs', async () => {
    const teacher = new KdsrTeacher(TINY, { seed: 4 });
    const student = studentFromTeacher(teacher, { seed: 5 });
    const g0 = student.G.namedParameters().map(([k, p]) => [k, p.value.toArray()] as const);
    g0.forEach(([k, v]) => expect(Buffer.from(v.buffer).equals(Buffer.from(new Map(teacher.G.namedParameters()).get(k)!.value.toArray().buffer))).toBe(true));
    const validations: Array<{ step: number; value: number }> = [];
    const trainer = new Trainer({
      stage: 2,
      teacher,
      student,
      data: new SeededSource(2, 6, 2, 11),
      optimizer: { lr: 1e-3 },
      schedule: { type: 'step', stepSize: 2, gamma: 0.5 },
      warmupSteps: 2,
      validation: { every: 2, run: (model, step) => step * 10 + (model === student ? 1 : 0) },
    });
    trainer.on('validation', (e) => validations.push(e));
    const events = [await trainer.step(), await trainer.step()];
    expect(events.map((e) => [e.losses.l1, e.losses.kd !== undefined, e.losses.kd === e.losses.total])).toEqual([[undefined, true, true], [undefined, true, true]]);
    student.G.namedParameters().forEach(([, p], i) => expect(Buffer.from(p.value.toArray().buffer).equals(Buffer.from(g0[i][1].buffer))).toBe(true));
    const third = await trainer.step();
    expect(third.losses.l1).toBeGreaterThan(0);
    expect(third.lr).toBe(5e-4);
    expect(student.G.namedParameters().some(([, p], i) => !Buffer.from(p.value.toArray().buffer).equals(Buffer.from(g0[i][1].buffer)))).toBe(true);
    await trainer.step();
    expect(validations).toEqual([{ step: 2, value: 21 }, { step: 4, value: 41 }]);
    expect(third.samplesPerSecond).toBeGreaterThan(0);
    trainer.dispose();
    teacher.dispose();
    student.dispose();
  });

  test('progress events report how long the update waited for its batch', async () => {
    const teacher = new KdsrTeacher(TINY, { seed: 3 });
    const seeded = new SeededSource(2, 6, 2, 12);
    // A source that takes 80 ms for each batch, then one that has it ready.
    const slow: DataSource = {
      nextBatch: () => new Promise<Batch>((resolve) => setTimeout(() => resolve(seeded.nextBatch()), 80)),
      saveState: () => seeded.saveState(),
      restoreState: (state) => seeded.restoreState(state),
    };
    const trainer = new Trainer({ stage: 1, teacher, data: slow, optimizer: { lr: 1e-3 } });
    const waited = await trainer.step();
    expect(waited.dataWaitMs).toBeGreaterThanOrEqual(75);
    const ready = new Trainer({ stage: 1, teacher, data: seeded, optimizer: { lr: 1e-3 } });
    const event = await ready.step();
    expect(event.dataWaitMs).toBeGreaterThanOrEqual(0);
    expect(event.dataWaitMs).toBeLessThan(waited.dataWaitMs);
    trainer.dispose();
    ready.dispose();
    teacher.dispose();
  });

  test('float64: a student made from a float64 teacher is float64, mixed dtypes are refused, a float32 checkpoint resumes in float64 on float32 batches', async () => {
    const teacher64 = new KdsrTeacher(TINY, { seed: 7, dtype: 'float64' });
    const student64 = studentFromTeacher(teacher64, { seed: 8 });
    expect(student64.parameters().every((p) => p.value.dtype === 'float64')).toBe(true);
    const student32 = studentFromTeacher(teacher64, { seed: 8, dtype: 'float32' });
    expect(() => new Trainer({ stage: 2, teacher: teacher64, student: student32, data: new SeededSource(2, 6, 2, 11), optimizer: { lr: 1e-3 } })).toThrow(
      'Trainer: the teacher is float64 but the student is float32; build both in one dtype',
    );
    [teacher64, student64, student32].forEach((m) => m.dispose());

    const options = { stage: 1 as const, data: new SeededSource(2, 6, 2, 17), optimizer: { lr: 1e-3 }, ema: { decay: 0.9 } };
    const teacher32 = new KdsrTeacher(TINY, { seed: 9 });
    const trainer32 = new Trainer({ ...options, teacher: teacher32 });
    await trainer32.run(2);
    const file = path.join(dir, 'float32-run');
    trainer32.saveCheckpoint(file);
    const resumed = new KdsrTeacher(TINY, { seed: 10, dtype: 'float64' });
    const trainer64 = new Trainer({ ...options, data: new SeededSource(2, 6, 2, 17), teacher: resumed });
    trainer64.loadCheckpoint(file); // weights, Adam moments and EMA converted to float64
    const weights32 = new Map(teacher32.namedParameters());
    for (const [key, p] of resumed.namedParameters()) {
      const saved = weights32.get(key)!.value.toArray();
      expect({ key, same: p.value.toArray().every((v, i) => v === saved[i]) }).toEqual({ key, same: true });
    }
    // The next (float32) batch, converted: the float64 update agrees with the float32 one to float32 accuracy.
    const [next32, next64] = [await trainer32.step(), await trainer64.step()];
    expect(resumed.parameters().every((p) => p.value.dtype === 'float64')).toBe(true);
    expect(Math.abs(next64.losses.total - next32.losses.total)).toBeLessThanOrEqual(1e-5 * next32.losses.total);
    for (const [key, p] of resumed.namedParameters()) expectClose(p.value, weights32.get(key)!.value, 2e-4, key);
    [trainer32, trainer64].forEach((t) => t.dispose());
    [teacher32, resumed].forEach((m) => m.dispose());
  });

  test('live engine memory does not grow across steps and every buffer comes from the allocator\'s cache (with EMA); EMA weights can be exported', async () => {
    const teacher = new KdsrTeacher(TINY, { seed: 6 });
    const trainer = new Trainer({ stage: 1, teacher, data: new SeededSource(2, 6, 2, 13), optimizer: { lr: 1e-3 }, ema: { decay: 0.999 } });
    await trainer.step();
    const before = memory('cpu');
    for (let i = 0; i < 4; i++) await trainer.step();
    const after = memory('cpu');
    expect(after.liveBuffers).toBe(before.liveBuffers);
    expect(after.liveBytes).toBe(before.liveBytes);
    // The steady state takes no new memory from the system: every allocation is a cache hit.
    expect(after.allocations).toBeGreaterThan(before.allocations);
    expect(after.segmentAllocations).toBe(before.segmentAllocations);
    const file = path.join(dir, 'ema.safetensors');
    trainer.exportWeights(file, { ema: true });
    const { model, info } = loadKdsrModel(file);
    expect(info).toMatchObject({ ema: true, step: 5, role: 'teacher' });
    const emaWeights = trainer.ema!.weights();
    for (const [key, p] of model.namedParameters()) expect(Buffer.from(p.value.toArray().buffer).equals(Buffer.from(emaWeights.get(key)!.toArray().buffer))).toBe(true);
    expect(Buffer.from(model.G.head.at(0).weight.value.toArray().buffer).equals(Buffer.from(teacher.G.head.at(0).weight.value.toArray().buffer))).toBe(false);
    model.dispose();
    trainer.dispose();
    teacher.dispose();
  });
  test('EMA switched on when a run without it resumes starts from the resumed weights', async () => {
    const file = path.join(dir, 'no-ema');
    const plain = new KdsrTeacher(TINY, { seed: 11 });
    const first = new Trainer({ stage: 1, teacher: plain, data: new SeededSource(2, 6, 2, 19), optimizer: { lr: 1e-3 } });
    await first.run(2);
    first.saveCheckpoint(file);
    const resumedModel = new KdsrTeacher(TINY, { seed: 12 });
    const resumed = new Trainer({ stage: 1, teacher: resumedModel, data: new SeededSource(2, 6, 2, 19), optimizer: { lr: 1e-3 }, ema: { decay: 0.5 } });
    resumed.loadCheckpoint(file);
    const before = new Map(resumedModel.namedParameters().map(([k, p]) => [k, p.value.toArray()]));
    for (const [key, t] of resumed.ema!.weights()) expect({ key, same: t.toArray().every((v, i) => v === before.get(key)![i]) }).toEqual({ key, same: true });
    await resumed.step();
    for (const [key, p] of resumedModel.namedParameters()) {
      const now = p.value.toArray();
      const expected = before.get(key)!.map((b, i) => 0.5 * b + 0.5 * now[i]);
      const ema = resumed.ema!.weights().get(key)!.toArray();
      expect({ key, err: Math.max(0, ...ema.map((v, i) => Math.abs(v - expected[i]))) < 1e-6 }).toEqual({ key, err: true });
    }
    [first, resumed].forEach((t) => t.dispose());
    [plain, resumedModel].forEach((m) => m.dispose());
  });
});

test('backward through a graph whose tensors were disposed names the op', () => {
  const p = new Parameter(Tensor.fromArray(randomArray(4, 1), [2, 2]));
  const h = F.leakyRelu(p.value, 0.1);
  const loss = F.reduceSum(F.mul(h, h));
  h.dispose();
  expect(() => tidy(() => backward(loss))).toThrow(/backward of 'mul': .*disposed/);
  loss.dispose();
  p.dispose();
});
