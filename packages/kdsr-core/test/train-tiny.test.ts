// Five Adam updates of the tiny teacher (stage 1) and student (stage 2) against
// train_tiny.safetensors, which was computed in float64 and stored in float32.
//
// float64 (the CPU reference kernels): the run reproduces the fixture up to the fixture's own
// storage rounding. Every loss and every parameter element rounds to the stored float32 value, so
// the README metric max|a-e|/max|e| is at most half a float32 ulp, 2^-24 ≈ 6.0e-8 (measured: losses
// ≤ 3.8e-8 relative, parameters ≤ 5.1e-8, no element more than 0.499 ulp away); a wrong rule,
// kernel or Adam step would show up orders of magnitude above this.
//
// float32 (the production path): the README tolerances, losses within 1e-5 relative at every step
// and every parameter within 2e-4 of its tensor's largest magnitude (measured: losses ≤ 1.2e-6,
// parameters ≤ 3.6e-6 in stage 1 and ≤ 4.1e-5 in stage 2, the latter in E_st.E.3.weight[380],
// whose first gradient, -2.7e-8, is comparable to Adam's eps, so that the first update magnifies
// float32 rounding), with one documented exception in stage 2, see TIE below.
import { DType, Tensor, tidy } from '@kdsr/cuda';
import { backward } from '../src/autograd/backward';
import { noGrad } from '../src/autograd/graph';
import { kdsrConfig } from '../src/models/config';
import { KdsrStudent, KdsrTeacher } from '../src/models/kdsr';
import { ResBlock } from '../src/nn/layers';
import { Adam } from '../src/train/adam';
import { studentLosses } from '../src/train/losses';
import { ProgressEvent, Trainer } from '../src/train/trainer';
import { FixedSource } from './fixed-source';
import { expectClose, fixtureGroup, fixtureTensor, relativeError } from './helpers';

const TINY = kdsrConfig('custom', { nFeats: 8, nBlocks: 2, nResblocks: 1, scale: 4 });
const TRAJECTORY = 'train_tiny.safetensors';
const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
const KD = { tau: 0.15, weight: 1 };
/** Half a float32 ulp relative to the value: all that storing a float64 result in float32 changes. */
const FLOAT32_ROUNDING = 2 ** -24;
const LOSS = 1e-5;
const PARAMETER = 2e-4;

/**
 * The one near-tie on the stage-2 trajectory. With the weights after 4 updates, the LeakyReLU
 * E_st.E.2.body.1 gets from the conv E_st.E.2.body.0, at [0, 2, 9, 2] (flat index 398 of
 * 2x8x12x12), the input -1.396e-7 in float64: 1.56e-7 of the layer's largest magnitude (0.894),
 * while a float32 evaluation of that layer is off by up to 6.8e-7 of it. (No other LeakyReLU input
 * or L1 residual of either stage has a different sign in float32 and float64.) So float32 cannot
 * resolve this sign, and which branch it takes depends on the build (this one: +2.1e-8, slope 1;
 * the fixture: slope 0.1). The branch changes the gradient of update 5 through that one element:
 * the 72 weights of output channel 2 of E_st.E.2.body.0 then land 3.5e-4 of the tensor max from
 * the fixture (its bias and E_st.E.0 move by at most 1.5e-5); taking the fixture's branch at this
 * element alone brings the whole tensor back to 2.5e-7. So the float32 test asserts the tie and
 * checks channel 2's weights only when float32 took the fixture's branch; the float64 tests check
 * every value exactly.
 */
const TIE = { step: 4, index: 398, key: 'E_st.E.2.body.0.weight', channel: 2, margin: 1e-6 };

function expectLosses(losses: number[], role: 'teacher' | 'student', tolerance: number) {
  expect(losses.length).toBe(5);
  losses.forEach((loss, k) => {
    const expected = fixtureTensor(TRAJECTORY, `${role}.loss.step${k}`).toArray()[0];
    expect({ step: k, withinTolerance: Math.abs(loss - expected) <= tolerance * Math.abs(expected) }).toEqual({ step: k, withinTolerance: true });
  });
}

/** Every parameter against param_after (frozen ones included: they must not move); `skip` leaves elements out. */
function expectParameters(model: KdsrTeacher | KdsrStudent, role: 'teacher' | 'student', tolerance: number, skip?: { key: string; keep: (i: number) => boolean }) {
  const after = fixtureGroup(TRAJECTORY, `${role}.param_after.`);
  expect(model.namedParameters().map(([k]) => k).sort()).toEqual([...after.keys()].sort());
  for (const [key, p] of model.namedParameters()) {
    const expected = after.get(key)!;
    if (skip?.key !== key) {
      expectClose(p.value, expected, tolerance, `${role}.param_after.${key}`);
      continue;
    }
    const kept = (t: Tensor) => Float64Array.from(t.toArray()).filter((_, i) => skip.keep(i));
    const error = relativeError(kept(p.value), kept(expected));
    expect({ key, withinTolerance: error <= tolerance }).toEqual({ key, withinTolerance: true });
  }
}

async function trainFive(trainer: Trainer, beforeUpdate?: (k: number) => void): Promise<ProgressEvent[]> {
  const events: ProgressEvent[] = [];
  trainer.on('progress', (e) => events.push(e));
  for (let k = 0; k < 5; k++) {
    beforeUpdate?.(k);
    await trainer.step();
  }
  expect(events.map((e) => e.step)).toEqual([1, 2, 3, 4, 5]);
  return events;
}

function tinyTeacher(dtype: DType): KdsrTeacher {
  const teacher = new KdsrTeacher(TINY, { seed: 1, dtype });
  teacher.loadStateDict(fixtureGroup('teacher_tiny.safetensors', 'param.'));
  return teacher;
}

function tinyStudent(dtype: DType): KdsrStudent {
  const student = new KdsrStudent(TINY, { seed: 2, dtype });
  student.loadStateDict(fixtureGroup('student_tiny.safetensors', 'param.'));
  return student;
}

/** The float32 fixture batch; the trainer converts it to a float64 model's dtype. */
const batchSource = (file: string) => new FixedSource(fixtureTensor(file, 'input.lr'), fixtureTensor(file, 'input.hr'));

describe('training trajectory (train_tiny fixture)', () => {
  test('stage 1 in float64 through the Trainer: the fixture to its float32 rounding', async () => {
    const teacher = tinyTeacher('float64');
    const trainer = new Trainer({ stage: 1, teacher, data: batchSource('teacher_tiny.safetensors'), optimizer: ADAM });
    const events = await trainFive(trainer);
    expect(teacher.namedParameters().every(([, p]) => p.value.dtype === 'float64')).toBe(true);
    expectLosses(events.map((e) => e.losses.total), 'teacher', FLOAT32_ROUNDING);
    expectParameters(teacher, 'teacher', FLOAT32_ROUNDING);
    trainer.dispose();
    teacher.dispose();
  });

  test('stage 2 in float64 against the stored teacher D\': the fixture to its float32 rounding', () => {
    const file = 'student_tiny.safetensors';
    const [lr, hr, teacherIdrKd] = ['input.lr', 'input.hr', 'input.idr_kd_teacher'].map((name) => fixtureTensor(file, name).cast('float64'));
    // The fixture's KD target is the stored (float32-rounded) D'; the teacher computes it to that rounding.
    const teacher = tinyTeacher('float64');
    const computed = noGrad(() => tidy(() => teacher.E.forward(teacher.encoderInput(lr, hr)).idrKd.toArray()));
    expect(relativeError(computed, teacherIdrKd.toArray())).toBeLessThanOrEqual(FLOAT32_ROUNDING);
    // Against that D' the trajectory is the Trainer's stage-2 step written out. (The Trainer would
    // use the teacher's D', 3.0e-8 away, and the first Adam update of E_st.E.3.weight[380], whose
    // gradient -2.7e-8 is comparable to eps, would turn that into 2.3e-6 of the tensor max.)
    const student = tinyStudent('float64');
    const adam = new Adam(student.namedParameters(), ADAM);
    const losses: number[] = [];
    for (let k = 0; k < 5; k++)
      tidy(() => {
        const out = student.forward(lr);
        const { total } = studentLosses(out.sr, hr, out.idrKd, teacherIdrKd, KD);
        backward(total);
        losses.push(total.toArray()[0]);
        adam.step();
        student.zeroGrad();
      });
    expectLosses(losses, 'student', FLOAT32_ROUNDING);
    expectParameters(student, 'student', FLOAT32_ROUNDING);
    adam.dispose();
    for (const t of [lr, hr, teacherIdrKd]) t.dispose();
    teacher.dispose();
    student.dispose();
  });

  test('stage 1 in float32: five Adam updates of the teacher with L1', async () => {
    const teacher = tinyTeacher('float32');
    const trainer = new Trainer({ stage: 1, teacher, data: batchSource('teacher_tiny.safetensors'), optimizer: ADAM });
    const events = await trainFive(trainer);
    expect(events.every((e) => e.lr === 1e-3 && e.gradNorm > 0 && e.samplesPerSecond > 0 && e.losses.l1 === e.losses.total)).toBe(true);
    expectLosses(events.map((e) => e.losses.total), 'teacher', LOSS);
    expectParameters(teacher, 'teacher', PARAMETER);
    trainer.dispose();
    teacher.dispose();
  });

  test('stage 2 in float32: five Adam updates of the student with L1 + KD against the frozen teacher encoder', async () => {
    const teacher = tinyTeacher('float32');
    const teacherBefore = new Map([...teacher.stateDict()].map(([k, t]) => [k, t.toArray()]));
    const student = tinyStudent('float32');
    const data = batchSource('student_tiny.safetensors');
    const trainer = new Trainer({ stage: 2, teacher, student, data, optimizer: { lr: 1e-3 }, kd: KD });
    const lr = fixtureTensor('student_tiny.safetensors', 'input.lr');
    let tied = NaN;
    const events = await trainFive(trainer, (k) => {
      if (k !== TIE.step) return;
      // The LeakyReLU input at the tie as update 5's forward pass computes it: zero to within the
      // accuracy of a float32 evaluation (README: about 1e-6 of the layer max).
      const { x, max } = noGrad(() =>
        tidy(() => {
          const layers = student.E_st.E;
          const resblock = layers.at(2) as ResBlock;
          const values = Array.from(resblock.body.at(0).forward(layers.at(1).forward(layers.at(0).forward(lr))).toArray());
          return { x: values[TIE.index], max: values.reduce((m, v) => Math.max(m, Math.abs(v)), 0) };
        }),
      );
      expect(Math.abs(x)).toBeLessThanOrEqual(TIE.margin * max);
      tied = x;
    });
    expect(events.every((e) => Math.abs(e.losses.l1! + e.losses.kd! - e.losses.total) < 1e-6)).toBe(true);
    expectLosses(events.map((e) => e.losses.total), 'student', LOSS);
    // The fixture's branch is the slope (x <= 0); on the other one, channel 2's weights are not comparable.
    const perChannel = TINY.nFeats * 9;
    expectParameters(student, 'student', PARAMETER, tied <= 0 ? undefined : { key: TIE.key, keep: (i) => Math.floor(i / perChannel) !== TIE.channel });
    for (const [k, t] of teacher.stateDict()) expect({ k, unchanged: Buffer.from(t.toArray().buffer).equals(Buffer.from(teacherBefore.get(k)!.buffer)) }).toEqual({ k, unchanged: true });
    trainer.dispose();
    teacher.dispose();
    student.dispose();
  });
});
