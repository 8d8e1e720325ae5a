// Five Adam updates of the tiny teacher (stage 1) and student (stage 2) through the Trainer,
// against train_tiny.safetensors (computed in float64). Tolerances from the fixtures README: the
// losses within 1e-5 relative, every parameter within 2e-4 of its tensor's largest magnitude
// (a float32 run lands ~2e-7 and ~3e-5 away).
import { kdsrConfig } from '../src/models/config';
import { KdsrStudent, KdsrTeacher } from '../src/models/kdsr';
import { ProgressEvent, Trainer } from '../src/train/trainer';
import { FixedSource } from './fixed-source';
import { expectClose, fixtureGroup, fixtureTensor } from './helpers';

const TINY = kdsrConfig('custom', { nFeats: 8, nBlocks: 2, nResblocks: 1, scale: 4 });
const TRAJECTORY = 'train_tiny.safetensors';

async function fiveSteps(trainer: Trainer): Promise<ProgressEvent[]> {
  const events: ProgressEvent[] = [];
  trainer.on('progress', (e) => events.push(e));
  for (let i = 0; i < 5; i++) await trainer.step();
  return events;
}

function expectTrajectory(events: ProgressEvent[], model: KdsrTeacher | KdsrStudent, role: 'teacher' | 'student') {
  events.forEach((e, k) => {
    const expected = fixtureTensor(TRAJECTORY, `${role}.loss.step${k}`).toArray()[0];
    expect({ step: k, relative: Math.abs(e.losses.total - expected) / Math.abs(expected) <= 1e-5 }).toEqual({ step: k, relative: true });
  });
  const after = fixtureGroup(TRAJECTORY, `${role}.param_after.`);
  expect(model.namedParameters().map(([k]) => k).sort()).toEqual([...after.keys()].sort());
  for (const [key, p] of model.namedParameters()) expectClose(p.value, after.get(key)!, 2e-4, `${role}.param_after.${key}`);
}

describe('training trajectory (train_tiny fixture)', () => {
  test('stage 1: five Adam updates of the teacher with L1', async () => {
    const file = 'teacher_tiny.safetensors';
    const teacher = new KdsrTeacher(TINY, { seed: 1 });
    teacher.loadStateDict(fixtureGroup(file, 'param.'));
    const data = new FixedSource(fixtureTensor(file, 'input.lr'), fixtureTensor(file, 'input.hr'));
    const trainer = new Trainer({ stage: 1, teacher, data, optimizer: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 } });
    const events = await fiveSteps(trainer);
    expect(events.map((e) => e.step)).toEqual([1, 2, 3, 4, 5]);
    expect(events.every((e) => e.lr === 1e-3 && e.gradNorm > 0 && e.samplesPerSecond > 0 && e.losses.l1 === e.losses.total)).toBe(true);
    expectTrajectory(events, teacher, 'teacher');
    trainer.dispose();
    teacher.dispose();
  });

  test('stage 2: five Adam updates of the student with L1 + KD against the frozen teacher encoder', async () => {
    const teacher = new KdsrTeacher(TINY, { seed: 1 });
    teacher.loadStateDict(fixtureGroup('teacher_tiny.safetensors', 'param.'));
    const teacherBefore = new Map([...teacher.stateDict()].map(([k, t]) => [k, t.toArray()]));
    const file = 'student_tiny.safetensors';
    const student = new KdsrStudent(TINY, { seed: 2 });
    student.loadStateDict(fixtureGroup(file, 'param.'));
    const data = new FixedSource(fixtureTensor(file, 'input.lr'), fixtureTensor(file, 'input.hr'));
    const trainer = new Trainer({ stage: 2, teacher, student, data, optimizer: { lr: 1e-3 }, kd: { tau: 0.15, weight: 1 } });
    const events = await fiveSteps(trainer);
    expect(events.every((e) => Math.abs(e.losses.l1! + e.losses.kd! - e.losses.total) < 1e-6)).toBe(true);
    expectTrajectory(events, student, 'student');
    for (const [k, t] of teacher.stateDict()) expect({ k, unchanged: Buffer.from(t.toArray().buffer).equals(Buffer.from(teacherBefore.get(k)!.buffer)) }).toEqual({ k, unchanged: true });
    trainer.dispose();
    teacher.dispose();
    student.dispose();
  });
});
