// Stage 3 (KDSR-GAN) against gan.safetensors' `stage3.*`: three iterations of the tiny student with
// the fixture's discriminator and channel-reduced VGG19 — d_T, the SR and every gradient of
// iteration 1, the seven losses of each iteration, and the student, its EMA and the discriminator
// after three iterations; then a kill-and-resume that must be bit-identical to an uninterrupted run.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readSafetensorsHeader, Tensor, tidy } from '@kdsr/cuda';
import { readCheckpointInfo } from '../src/checkpoint/checkpoint';
import { kdsrConfig } from '../src/models/config';
import { UNetDiscriminatorSN } from '../src/models/discriminator';
import { KdsrStudent, KdsrTeacher, studentFromTeacher } from '../src/models/kdsr';
import { Vgg19, VGG19_WIDTHS } from '../src/models/vgg';
import { Initializer } from '../src/nn/init';
import type { DataSource } from '../src/train/data-source';
import { GanLosses, GanProgressEvent, GanTrainer } from '../src/train/gan-trainer';
import { PerceptualLoss } from '../src/train/perceptual-loss';
import { Trainer } from '../src/train/trainer';
import { FixedSource, SeededSource } from './fixed-source';
import { expectClose, fixtureGroup, fixtureTensor, relativeError } from './helpers';

const FILE = 'gan.safetensors';
const TINY = kdsrConfig('custom', { nFeats: 8, nBlocks: 2, nResblocks: 1, scale: 4 });
const LOSS_NAMES: Record<keyof GanLosses, string> = { l1: 'l1', kd: 'kd', percep: 'percep', ganG: 'gan_g', total: 'g_total', dReal: 'd_real', dFake: 'd_fake' };

interface Setup {
  trainer: GanTrainer;
  teacher: KdsrTeacher;
  student: KdsrStudent;
  discriminator: UNetDiscriminatorSN;
  vgg: Vgg19;
  perceptual: PerceptualLoss;
}

function setup(data: DataSource): Setup {
  const teacher = new KdsrTeacher(TINY, { seed: 1 });
  teacher.E.loadStateDict(fixtureGroup(FILE, 'stage3.init.teacher.E.'), { source: 'stage3.init.teacher.E' });
  const student = new KdsrStudent(TINY, { seed: 2 });
  student.loadStateDict(fixtureGroup(FILE, 'stage3.init.student.'), { source: 'stage3.init.student' });
  const discriminator = new UNetDiscriminatorSN(3, 4, new Initializer({ seed: 3 }));
  discriminator.loadStateDict(fixtureGroup(FILE, 'disc.param.'), { source: 'disc.param' });
  const vgg = new Vgg19(VGG19_WIDTHS.map((w) => w / 16), new Initializer({ seed: 4 }));
  vgg.loadStateDict(fixtureGroup(FILE, 'percep.vgg.'), { source: 'percep.vgg' });
  const perceptual = new PerceptualLoss(vgg);
  const trainer = new GanTrainer({
    teacher,
    student,
    discriminator,
    perceptual,
    data,
    optimizer: { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8 },
    discriminatorOptimizer: { lr: 5e-4, beta1: 0.9, beta2: 0.99, eps: 1e-8 },
    kd: { tau: 0.15, weight: 1 },
    ganWeight: 1,
    emaDecay: 0.999,
  });
  return { trainer, teacher, student, discriminator, vgg, perceptual };
}

function disposeAll(s: Setup): void {
  s.trainer.dispose();
  s.perceptual.dispose();
  for (const m of [s.teacher, s.student, s.discriminator, s.vgg]) m.dispose();
}

const fixtureSource = () => new FixedSource(fixtureTensor(FILE, 'stage3.input.lr'), fixtureTensor(FILE, 'stage3.input.gt'));

/** Copies of the gradients an optimiser is about to apply, taken on its first step. */
function captureFirstGradients(trainer: GanTrainer, which: 'optimizer' | 'discriminatorOptimizer', params: Array<[string, { grad: Tensor | null }]>): Map<string, Float32Array> {
  const captured = new Map<string, Float32Array>();
  const optimizer = trainer[which];
  const step = optimizer.step.bind(optimizer);
  optimizer.step = (lr?: number) => {
    if (captured.size === 0) for (const [name, p] of params) if (p.grad) captured.set(name, Float32Array.from(p.grad.toArray()));
    step(lr);
  };
  return captured;
}

describe('stage 3 (KDSR-GAN)', () => {
  test('three iterations reproduce the fixture trajectory', async () => {
    const s = setup(fixtureSource());
    const gradG = captureFirstGradients(s.trainer, 'optimizer', s.student.namedParameters());
    const gradD = captureFirstGradients(s.trainer, 'discriminatorOptimizer', s.discriminator.namedParameters());
    // The first iteration's d_T and SR, through the teacher encoder and the student.
    const seen: { idrKd?: Float32Array; sr?: Float32Array } = {};
    const encoder = s.teacher.E.forward.bind(s.teacher.E);
    s.teacher.E.forward = (x: Tensor) => {
      const out = encoder(x);
      seen.idrKd ??= Float32Array.from(out.idrKd.toArray());
      return out;
    };
    const forward = s.student.forward.bind(s.student);
    s.student.forward = (lr: Tensor) => {
      const out = forward(lr);
      seen.sr ??= Float32Array.from(out.sr.toArray());
      return out;
    };
    const events: GanProgressEvent[] = [];
    s.trainer.on('progress', (e) => events.push(e));
    await s.trainer.run(3);

    tidy(() => {
      expectClose(Tensor.fromArray(seen.idrKd!, [2, 32]), fixtureTensor(FILE, 'stage3.teacher_idr_kd'), 1e-5, 'teacher_idr_kd');
      expectClose(Tensor.fromArray(seen.sr!, [2, 3, 48, 48]), fixtureTensor(FILE, 'stage3.iter1.sr'), 1e-5, 'iter1.sr');
      const expectedG = fixtureGroup(FILE, 'stage3.iter1.grad_g.');
      expect([...gradG.keys()].sort()).toEqual([...expectedG.keys()].sort());
      for (const [key, e] of expectedG) expectClose(Tensor.fromArray(gradG.get(key)!, e.shape), e, 1e-4, `grad_g.${key}`);
      const expectedD = fixtureGroup(FILE, 'stage3.iter1.grad_d.');
      expect([...gradD.keys()].sort()).toEqual([...expectedD.keys()].sort());
      for (const [key, e] of expectedD) expectClose(Tensor.fromArray(gradD.get(key)!, e.shape), e, 1e-4, `grad_d.${key}`);
    });
    expect(events.map((e) => e.step)).toEqual([1, 2, 3]);
    events.forEach((e, k) => {
      for (const [field, name] of Object.entries(LOSS_NAMES)) {
        const expected = fixtureTensor(FILE, `stage3.iter${k + 1}.loss.${name}`).toArray()[0];
        const actual = e.losses[field as keyof GanLosses];
        expect({ iteration: k + 1, name, error: Math.abs(actual - expected) / Math.abs(expected) <= 1e-5 }).toEqual({ iteration: k + 1, name, error: true });
      }
    });

    const student = fixtureGroup(FILE, 'stage3.final.student.');
    expect([...s.student.stateDict().keys()].sort()).toEqual([...student.keys()].sort());
    for (const [key, t] of s.student.stateDict()) expectClose(t, student.get(key)!, 2e-4, `final.student.${key}`);
    const ema = s.trainer.ema.weights();
    const init = fixtureGroup(FILE, 'stage3.init.student.');
    for (const [key, e] of fixtureGroup(FILE, 'stage3.final.ema.')) expectClose(ema.get(key)!, e, 2e-4, `final.ema.${key}`);
    // The EMA moves by at most 6e-6: its delta from the start is checked on its own scale.
    for (const [key, e] of fixtureGroup(FILE, 'stage3.final.ema_delta.')) {
      const a = ema.get(key)!.toArray();
      const i = init.get(key)!.toArray();
      const delta = Float64Array.from(a, (v, j) => v - i[j]);
      expect({ key, withinTolerance: relativeError(delta, e.toArray()) <= 0.1 }).toEqual({ key, withinTolerance: true });
    }
    const disc = fixtureGroup(FILE, 'stage3.final.disc.');
    expect([...s.discriminator.stateDict().keys()].sort()).toEqual([...disc.keys()].sort());
    for (const [key, t] of s.discriminator.stateDict()) expectClose(t, disc.get(key)!, 2e-4, `final.disc.${key}`);
    disposeAll(s);
  });

  test('a run killed after a checkpoint and resumed is bit-identical to an uninterrupted one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdsr-gan-'));
    try {
      const straight = setup(new SeededSource(2, 8, 4, 7));
      await straight.trainer.run(3);

      const first = setup(new SeededSource(2, 8, 4, 7));
      await first.trainer.run(2, { checkpoint: { path: path.join(dir, 'ckpt'), every: 2 } });
      disposeAll(first);
      const resumed = setup(new SeededSource(2, 8, 4, 7));
      resumed.trainer.loadCheckpoint(path.join(dir, 'ckpt'));
      expect(resumed.trainer.updates).toBe(2);
      await resumed.trainer.run(3);

      const same = (a: Map<string, Tensor>, b: Map<string, Tensor>, what: string) => {
        expect([...a.keys()]).toEqual([...b.keys()]);
        for (const [key, t] of a) expect({ what, key, equal: Buffer.from(t.toArray().buffer).equals(Buffer.from(b.get(key)!.toArray().buffer)) }).toEqual({ what, key, equal: true });
      };
      same(resumed.student.stateDict(), straight.student.stateDict(), 'student');
      same(resumed.trainer.ema.weights(), straight.trainer.ema.weights(), 'ema');
      same(resumed.discriminator.stateDict(), straight.discriminator.stateDict(), 'discriminator');
      same(resumed.trainer.optimizer.state().tensors, straight.trainer.optimizer.state().tensors, 'generator Adam');
      same(resumed.trainer.discriminatorOptimizer.state().tensors, straight.trainer.discriminatorOptimizer.state().tensors, 'discriminator Adam');
      disposeAll(straight);
      disposeAll(resumed);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a non-finite loss stops the iteration before either update', async () => {
    const lr = fixtureTensor(FILE, 'stage3.input.lr');
    const poisoned = Float32Array.from(lr.toArray());
    poisoned[5] = NaN;
    const s = setup(new FixedSource(Tensor.fromArray(poisoned, lr.shape), fixtureTensor(FILE, 'stage3.input.gt')));
    const trained = () => [...s.student.trainableParameters(), ...s.discriminator.trainableParameters()].map((p) => Float32Array.from(p.value.toArray()));
    const before = trained();
    await expect(s.trainer.step()).rejects.toThrow(/training diverged at update 1: the l1 loss is NaN/);
    expect(trained()).toEqual(before);
    expect(s.trainer.updates).toBe(0);
    disposeAll(s);
  });

  test('its checkpoint is the one-file checkpoint of every stage; a stage-2 checkpoint is refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdsr-gan-'));
    try {
      const s = setup(fixtureSource());
      await s.trainer.step();
      s.trainer.saveCheckpoint(path.join(dir, 'g'));
      const state = Object.keys(readSafetensorsHeader(path.join(dir, 'g.train.safetensors')).entries);
      for (const group of ['model.G.', 'model.E_st.', 'adam.', 'adam_d.', 'ema.', 'disc.', 'teacher.E.'])
        expect({ group, saved: state.some((k) => k.startsWith(group)) }).toEqual({ group, saved: true });
      expect(readCheckpointInfo(path.join(dir, 'g.safetensors'))).toMatchObject({ role: 'student', stage: 3, step: 1 });

      const teacher = new KdsrTeacher(TINY, { seed: 5 });
      const stage2 = new Trainer({ stage: 2, teacher, student: studentFromTeacher(teacher, { seed: 6 }), data: fixtureSource(), optimizer: { lr: 1e-3 } });
      stage2.saveCheckpoint(path.join(dir, 's'));
      expect(() => s.trainer.loadCheckpoint(path.join(dir, 's'))).toThrow(/s\.train\.safetensors is a stage-2 checkpoint; this trainer runs stage 3/);
      stage2.dispose();
      stage2.model.dispose();
      teacher.dispose();
      disposeAll(s);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
