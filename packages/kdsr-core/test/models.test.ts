// The KDSR networks against the golden fixtures (teacher_tiny, student_tiny): parameter names and
// shapes, forward outputs, losses, and the gradient of every parameter and input. Tolerances are
// the fixtures README's (per tensor max|a-e|/max|e|): forward values and losses 1e-5, gradients 1e-4
// (a float32 evaluation reaches ~4e-7 and ~1.5e-5), exactly-zero gradients 1e-7 absolute.
import { Tensor, tidy } from '@kdsr/cuda';
import { backward } from '../src/autograd/backward';
import { noGrad, setRequiresGrad } from '../src/autograd/graph';
import { kdsrConfig } from '../src/models/config';
import { KdsrStudent, KdsrTeacher } from '../src/models/kdsr';
import { kdLoss, l1Loss, studentLosses } from '../src/train/losses';
import { expectClose, fixture, fixtureGroup, fixtureTensor } from './helpers';

const TINY = kdsrConfig('custom', { nFeats: 8, nBlocks: 2, nResblocks: 1, scale: 4 });
const FORWARD = 1e-5;
const GRADIENT = 1e-4;
const frozen = (file: string) => JSON.parse(fixture(file).metadata.frozen_keys) as string[];

function expectSameKeys(model: KdsrTeacher | KdsrStudent, file: string) {
  const expected = fixtureGroup(file, 'param.');
  const actual = new Map(model.namedParameters());
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [key, t] of expected) expect({ key, shape: actual.get(key)!.shape }).toEqual({ key, shape: t.shape });
  expect(model.parameters().filter((p) => !p.trainable).length).toBe(frozen(file).length);
  for (const key of frozen(file)) expect({ key, trainable: actual.get(key)!.trainable }).toEqual({ key, trainable: false });
}

/** Inference (no recording, intermediates freed as soon as they are consumed) computes the same values bit for bit. */
function expectSameWithoutRecording(run: () => { sr: Tensor; idr: Tensor; idrKd: Tensor }, file: string) {
  tidy(() => {
    const recorded = run();
    const inference = noGrad(run);
    for (const key of ['sr', 'idr', 'idrKd'] as const) {
      const [a, b] = [recorded[key].toArray(), inference[key].toArray()];
      expect({ key, same: a.length === b.length && a.every((v, i) => Object.is(v, b[i])) }).toEqual({ key, same: true });
    }
    expectClose(inference.sr, fixtureTensor(file, 'output.sr'), FORWARD, 'output.sr');
  });
}

function expectParameterGrads(model: KdsrTeacher | KdsrStudent, file: string, prefix: string) {
  const expected = fixtureGroup(file, prefix);
  for (const [key, p] of model.namedParameters()) {
    if (!p.trainable) {
      expect({ key, grad: p.grad }).toEqual({ key, grad: null });
      continue;
    }
    const e = expected.get(key);
    if (!e) throw new Error(`${file} has no ${prefix}${key}`);
    expectClose(p.grad!, e, GRADIENT, `${prefix}${key}`);
  }
}

describe('KDSR teacher (teacher_tiny fixture)', () => {
  const file = 'teacher_tiny.safetensors';
  let teacher: KdsrTeacher;

  beforeAll(() => {
    teacher = new KdsrTeacher(TINY, { seed: 1 });
    teacher.loadStateDict(fixtureGroup(file, 'param.'));
  });
  afterAll(() => teacher.dispose());

  test('parameter names are the original state-dict keys, with their shapes', () => expectSameKeys(teacher, file));

  test('forward outputs, L1 loss and every gradient match', () => {
    tidy(() => {
      const lr = setRequiresGrad(fixtureTensor(file, 'input.lr').reshape([2, 3, 12, 12]));
      const hr = setRequiresGrad(fixtureTensor(file, 'input.hr').reshape([2, 3, 48, 48]));
      expectClose(teacher.encoderInput(lr, hr), fixtureTensor(file, 'input.encoder'), 0, 'input.encoder');
      const out = teacher.forward(lr, hr);
      expectClose(out.sr, fixtureTensor(file, 'output.sr'), FORWARD, 'output.sr');
      expectClose(out.idr, fixtureTensor(file, 'output.idr'), FORWARD, 'output.idr');
      expectClose(out.idrKd, fixtureTensor(file, 'output.idr_kd'), FORWARD, 'output.idr_kd');
      const loss = l1Loss(out.sr, hr);
      expectClose(loss, fixtureTensor(file, 'loss.l1'), FORWARD, 'loss.l1');
      const [dlr, dhr] = backward(loss, { inputs: [lr, hr] });
      expectClose(dlr!, fixtureTensor(file, 'grad.input.lr'), GRADIENT, 'grad.input.lr');
      expectClose(dhr!, fixtureTensor(file, 'grad.input.hr'), GRADIENT, 'grad.input.hr');
      expectParameterGrads(teacher, file, 'grad.');
      teacher.zeroGrad();
    });
  });

  test('inference (noGrad) gives the recorded forward\'s outputs bit for bit', () => {
    const lr = fixtureTensor(file, 'input.lr').reshape([2, 3, 12, 12]);
    const hr = fixtureTensor(file, 'input.hr').reshape([2, 3, 48, 48]);
    expectSameWithoutRecording(() => teacher.forward(lr, hr), file);
  });
});

test('loading the wrong weights fails with the key or shape at fault', () => {
  const student = new KdsrStudent(TINY, { seed: 3 });
  expect(() => student.loadStateDict(fixtureGroup('teacher_tiny.safetensors', 'param.'), { source: 'teacher_tiny' })).toThrow(/teacher_tiny: unexpected keys E\.E\.0\.bias/);
  const x2 = new KdsrStudent(kdsrConfig('custom', { nFeats: 8, nBlocks: 2, nResblocks: 1, scale: 2 }), { seed: 3 });
  expect(() => x2.loadStateDict(fixtureGroup('student_tiny.safetensors', 'param.'), { source: 'student_tiny' })).toThrow(/student_tiny: unexpected keys G\.tail\.0\.2\.bias/);
  const partial = new Map([...fixtureGroup('student_tiny.safetensors', 'param.')].filter(([k]) => k !== 'G.head.0.bias'));
  expect(() => student.loadStateDict(partial, { source: 'partial' })).toThrow('partial: missing keys G.head.0.bias');
  const wide = kdsrConfig('custom', { nFeats: 8, nBlocks: 2, nResblocks: 1, scale: 3 });
  const x3 = new KdsrStudent(wide, { seed: 3 });
  const shapes = new Map([...fixtureGroup('student_tiny.safetensors', 'param.')].filter(([k]) => !k.startsWith('G.tail.0.2')));
  expect(() => x3.loadStateDict(shapes, { source: 'x4 weights' })).toThrow("x4 weights: 'G.tail.0.0.bias' has shape [32], the model expects [72]");
  for (const m of [student, x2, x3]) m.dispose();
});

describe('KDSR student (student_tiny fixture)', () => {
  const file = 'student_tiny.safetensors';
  let student: KdsrStudent;

  beforeAll(() => {
    student = new KdsrStudent(TINY, { seed: 2 });
    student.loadStateDict(fixtureGroup(file, 'param.'));
  });
  afterAll(() => student.dispose());

  test('parameter names are the original state-dict keys, with their shapes', () => expectSameKeys(student, file));

  test('forward outputs, L1 + KD losses and every gradient match', () => {
    tidy(() => {
      const lr = setRequiresGrad(fixtureTensor(file, 'input.lr').reshape([2, 3, 12, 12]));
      const hr = fixtureTensor(file, 'input.hr');
      const out = student.forward(lr);
      expectClose(out.sr, fixtureTensor(file, 'output.sr'), FORWARD, 'output.sr');
      expectClose(out.idr, fixtureTensor(file, 'output.idr'), FORWARD, 'output.idr');
      expectClose(out.idrKd, fixtureTensor(file, 'output.idr_kd'), FORWARD, 'output.idr_kd');
      const losses = studentLosses(out.sr, hr, out.idrKd, fixtureTensor(file, 'input.idr_kd_teacher'), { tau: 0.15, weight: 1 });
      expectClose(losses.l1, fixtureTensor(file, 'loss.l1'), FORWARD, 'loss.l1');
      expectClose(losses.kd, fixtureTensor(file, 'loss.kd'), FORWARD, 'loss.kd');
      expectClose(losses.total, fixtureTensor(file, 'loss.total'), FORWARD, 'loss.total');
      const [dlr] = backward(losses.total, { inputs: [lr] });
      expectClose(dlr!, fixtureTensor(file, 'grad.input.lr'), GRADIENT, 'grad.input.lr');
      expectParameterGrads(student, file, 'grad.');
      student.zeroGrad();
    });
  });

  test('inference (noGrad) gives the recorded forward\'s outputs bit for bit', () => {
    const lr = fixtureTensor(file, 'input.lr').reshape([2, 3, 12, 12]);
    expectSameWithoutRecording(() => student.forward(lr), file);
  });

  test('the KD term alone reaches only E_st, and is exactly 0 for E_st.compress', () => {
    tidy(() => {
      const out = student.forward(fixtureTensor(file, 'input.lr'));
      backward(kdLoss(out.idrKd, fixtureTensor(file, 'input.idr_kd_teacher')));
      const expected = fixtureGroup(file, 'grad_kd.');
      for (const [key, p] of student.namedParameters()) {
        if (!key.startsWith('E_st.') || key.startsWith('E_st.compress.')) {
          expect({ key, grad: p.grad }).toEqual({ key, grad: null });
          continue;
        }
        expectClose(p.grad!, expected.get(key)!, GRADIENT, `grad_kd.${key}`);
      }
      for (const key of ['E_st.compress.0.weight', 'E_st.compress.0.bias']) {
        const e = expected.get(key)!.toArray();
        expect(Math.max(...Array.from(e, Math.abs))).toBeLessThanOrEqual(1e-7);
      }
      student.zeroGrad();
    });
  });
});
