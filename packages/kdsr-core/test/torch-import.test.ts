// Official-format checkpoints (torch.save zip + pickle) read without Python must give exactly the
// fixture weights; BasicSR's layout must yield params_ema (params holds doubled weights).
import * as fs from 'fs';
import { readTorchStateDict, torchStateDict } from '../src/checkpoint/torch-import';
import { fixtureGroup, fixturePath } from './helpers';

function expectExact(file: string, fixtureFile: string) {
  const { tensors } = readTorchStateDict(fixturePath(file));
  const expected = fixtureGroup(fixtureFile, 'param.');
  expect([...tensors.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [key, e] of expected) {
    const t = tensors.get(key)!;
    expect({ key, shape: t.shape }).toEqual({ key, shape: e.shape });
    const exact = Buffer.from(t.data.buffer).equals(Buffer.from((e.toArray() as Float32Array).buffer));
    expect({ key, exact }).toEqual({ key, exact: true });
  }
  return tensors;
}

describe('PyTorch checkpoint import', () => {
  test('teacher_tiny.pth (bare state dict) equals the fixture parameters exactly', () => {
    expectExact('teacher_tiny.pth', 'teacher_tiny.safetensors');
  });

  test('student_tiny.pth (bare state dict) equals the fixture parameters exactly', () => {
    expectExact('student_tiny.pth', 'student_tiny.safetensors');
  });

  test('student_tiny_basicsr.pth picks params_ema, not the doubled params', () => {
    expectExact('student_tiny_basicsr.pth', 'student_tiny.safetensors');
    expect(readTorchStateDict(fixturePath('student_tiny_basicsr.pth')).choice.entry).toBe('params_ema');
  });

  test('corrupt and foreign files fail clearly', () => {
    const good = fs.readFileSync(fixturePath('teacher_tiny.pth'));
    expect(() => torchStateDict(Buffer.from('hello world, not a zip'), 'x.pth')).toThrow('x.pth: not a PyTorch checkpoint');
    expect(() => torchStateDict(good.subarray(0, good.length - 5000), 'cut.pth')).toThrow(/cut\.pth/);
  });
});
