// Checkpoints: kill-and-resume gives bit-identical weights (stage 1 and 2), inconsistent files are
// refused, and official .pth files convert to our format with the original keys.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readSafetensorsHeader } from '@kdsr/cuda';
import { checkpointPaths, readCheckpointInfo, saveTrainingState, loadTrainingState } from '../src/checkpoint/checkpoint';
import { importTorchCheckpoint, loadKdsrModel } from '../src/checkpoint/convert';
import { kdsrConfig } from '../src/models/config';
import { KdsrStudent, KdsrTeacher, studentFromTeacher } from '../src/models/kdsr';
import { Trainer, TrainerOptions } from '../src/train/trainer';
import { SeededSource } from './fixed-source';
import { fixtureGroup, fixturePath } from './helpers';

const TINY = kdsrConfig('custom', { nFeats: 4, nBlocks: 2, nResblocks: 1, scale: 2 });
const N = 6;

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdsr-ckpt-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Fresh objects for one run: models from fixed seeds, a fresh data stream, a new trainer. */
function setup(stage: 1 | 2, seed = 21): { trainer: Trainer; dispose: () => void } {
  const teacher = new KdsrTeacher(TINY, { seed });
  const student = stage === 2 ? studentFromTeacher(teacher, { seed: seed + 1 }) : undefined;
  const options: TrainerOptions = {
    stage,
    teacher,
    student,
    data: new SeededSource(2, 6, 2, 5),
    optimizer: { lr: 2e-3 },
    schedule: { type: 'multistep', milestones: [2, 4], gamma: 0.5 },
    warmupSteps: stage === 2 ? 2 : 0,
    ema: { decay: 0.9 },
    preset: 'custom',
  };
  const trainer = new Trainer(options);
  return { trainer, dispose: () => (trainer.dispose(), teacher.dispose(), student?.dispose()) };
}

describe.each([1, 2] as const)('stage %i kill-and-resume', (stage) => {
  test(`${N} updates straight equal ${N / 2} + save + reload into fresh objects + ${N / 2}, byte for byte`, async () => {
    const straight = setup(stage);
    await straight.trainer.run(N);
    straight.trainer.saveCheckpoint(path.join(dir, `straight${stage}`));
    straight.dispose();

    const first = setup(stage);
    await first.trainer.run(N / 2);
    first.trainer.saveCheckpoint(path.join(dir, `half${stage}`));
    first.dispose();

    // Other seeds: weights, moments, EMA, the stage-2 teacher encoder must all come from the checkpoint.
    const second = setup(stage, 99);
    second.trainer.loadCheckpoint(path.join(dir, `half${stage}`));
    expect(second.trainer.updates).toBe(N / 2);
    await second.trainer.run(N);
    second.trainer.saveCheckpoint(path.join(dir, `resumed${stage}`));
    second.dispose();

    const a = checkpointPaths(path.join(dir, `straight${stage}`));
    const b = checkpointPaths(path.join(dir, `resumed${stage}`));
    expect(fs.readFileSync(b.weights).equals(fs.readFileSync(a.weights))).toBe(true);
    expect(fs.readFileSync(b.state).equals(fs.readFileSync(a.state))).toBe(true);
    const info = readCheckpointInfo(a.weights);
    expect(info).toMatchObject({ role: stage === 1 ? 'teacher' : 'student', stage, step: N, preset: 'custom', config: { nFeats: 4, nBlocks: 2, scale: 2 } });
    const keys = Object.keys(readSafetensorsHeader(a.weights).entries);
    expect(keys).toContain(stage === 1 ? 'E.E.0.weight' : 'E_st.E.0.weight');
    expect(keys.every((k) => k.startsWith('G.') || k.startsWith(stage === 1 ? 'E.' : 'E_st.'))).toBe(true);
  });
});

test('the state file is the checkpoint: an older weights file beside it is reported; the earlier layout (weights only in the weights file) loads, and a mismatch in it is refused; so is a stage mismatch', async () => {
  const run = setup(1);
  await run.trainer.run(2);
  const base = path.join(dir, 'mixed');
  run.trainer.saveCheckpoint(base);
  run.dispose();
  const files = checkpointPaths(base);
  const state = loadTrainingState(files.state);
  // A kill between the two writes of update 3: the checkpoint is complete, the weights file behind.
  saveTrainingState(files.state, { ...state, step: 3 });
  const fresh = setup(1);
  expect(fresh.trainer.loadCheckpoint(base)).toEqual({ weightsFileStale: true });
  expect(fresh.trainer.updates).toBe(3);
  fresh.dispose();
  // The earlier layout: no 'model.*' in the state file.
  const legacyTensors = new Map([...state.tensors].filter(([k]) => !k.startsWith('model.')));
  saveTrainingState(files.state, { ...state, tensors: legacyTensors });
  const legacy = setup(1);
  expect(legacy.trainer.loadCheckpoint(base)).toEqual({ weightsFileStale: false });
  expect(legacy.trainer.updates).toBe(2);
  legacy.dispose();
  saveTrainingState(files.state, { ...state, tensors: legacyTensors, step: 3 });
  const mismatch = setup(1);
  expect(() => mismatch.trainer.loadCheckpoint(base)).toThrow(/is from update 2 but .* from update 3 \(interrupted while saving\?\)/);
  mismatch.dispose();
  for (const t of state.tensors.values()) t.dispose();
  const other = setup(2);
  await other.trainer.run(1);
  other.trainer.saveCheckpoint(path.join(dir, 'stage2'));
  other.dispose();
  const stage1 = setup(1);
  expect(() => stage1.trainer.loadCheckpoint(path.join(dir, 'stage2'))).toThrow('is a stage-2 checkpoint; this trainer runs stage 1');
  stage1.dispose();
});

describe('official checkpoints converted to kdsr safetensors', () => {
  test.each([
    ['teacher_tiny.pth', 'teacher_tiny.safetensors', 'teacher', ''],
    ['student_tiny.pth', 'student_tiny.safetensors', 'student', ''],
    ['student_tiny_basicsr.pth', 'student_tiny.safetensors', 'student', 'params_ema'],
  ])('%s: the configuration is inferred and the weights are the fixture weights exactly', (pth, fixture, role, entry) => {
    const out = path.join(dir, `${pth}.safetensors`);
    const written = importTorchCheckpoint(fixturePath(pth), out);
    expect(written).toMatchObject({ role, entry, preset: 'custom', config: { nFeats: 8, nBlocks: 2, nResblocks: 1, scale: 4 } });
    const { model, info } = loadKdsrModel(out);
    expect(model).toBeInstanceOf(role === 'teacher' ? KdsrTeacher : KdsrStudent);
    expect(info.role).toBe(role);
    const expected = fixtureGroup(fixture, 'param.');
    for (const [key, p] of model.namedParameters()) expect({ key, exact: Buffer.from(p.value.toArray().buffer).equals(Buffer.from(expected.get(key)!.toArray().buffer)) }).toEqual({ key, exact: true });
    model.dispose();
    const direct = loadKdsrModel(fixturePath(pth)).model;
    for (const [key, p] of direct.namedParameters()) expect({ key, exact: Buffer.from(p.value.toArray().buffer).equals(Buffer.from(expected.get(key)!.toArray().buffer)) }).toEqual({ key, exact: true });
    direct.dispose();
  });
});
