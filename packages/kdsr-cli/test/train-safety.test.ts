// Training runs that survive kills: a kill loop (SIGKILL and SIGTERM at random times, saves
// included) must always resume and end bit-identical to an uninterrupted run; checkpoints of the
// earlier two-file layout, with the data moved elsewhere, resume too; unreadable training images
// are listed and stop a new run; a folder that cannot be created is a one-line error. Stage 3
// (KDSR-GAN, with the training-pair pool) survives kills the same way.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { loadSafetensors, readSafetensorsHeader, saveSafetensors, testing } from '@kdsr/cuda';
import { readCheckpointInfo } from '@kdsr/core';
import { bin, kdsr, kdsrOk, ONE_THREAD, randomArray, scratchDir, tensorBytes, writeTestPng } from './helpers';

const TINY = ['--n-feats', '8', '--n-blocks', '2', '--n-resblocks', '1', '--scale', '4', '--batch', '2', '--patch', '12', '--workers', '1', '--seed', '7'];
const STEPS = 60;
const MAX_KILLS = 40;

describe('kdsr train: nothing lost', () => {
  let dir: string;
  let cleanup: () => void;
  const at = (...parts: string[]) => path.join(dir, ...parts);
  const train = (out: string, steps: number, extra: string[] = []) => ['train', '--stage', '1', '--data', 'hr', '--out', out, ...TINY, '--steps', String(steps), '--save-every', '1', '--log-every', '1', ...extra];
  const expectSameCheckpoint = (a: string, b: string) => {
    for (const file of ['teacher.safetensors', 'teacher.train.safetensors']) {
      const x = tensorBytes(at(a, file));
      const y = tensorBytes(at(b, file));
      expect([...y.keys()].sort()).toEqual([...x.keys()].sort());
      for (const [name, bytes] of x) expect({ file, name, equal: bytes.equals(y.get(name)!) }).toEqual({ file, name, equal: true });
    }
  };

  beforeAll(async () => {
    ({ dir, cleanup } = scratchDir());
    for (let i = 0; i < 4; i++) await writeTestPng(at('hr', `im${i}.png`), 64, 64, i + 1);
    kdsrOk(train('reference', STEPS), dir);
  });
  afterAll(() => cleanup());

  test('a kill loop (SIGKILL and SIGTERM at random times, during saves too) always resumes and ends bit-identical to an uninterrupted run', async () => {
    // Kills come during start-up (a random delay after the start) or within milliseconds after the
    // first or second update of an attempt is logged, which is when its checkpoint is being written.
    const delays = randomArray(MAX_KILLS, 2024, 0, 1);
    let kills = 0;
    let graceful = 0;
    for (let attempt = 0; ; attempt++) {
      const resume = fs.existsSync(at('killed', 'stage1.run.json')) ? ['--resume'] : [];
      const child = spawn(process.execPath, [bin, ...train('killed', STEPS, resume)], { cwd: dir });
      const signal: NodeJS.Signals = attempt % 4 === 3 ? 'SIGTERM' : 'SIGKILL';
      const kill = () => child.kill(signal);
      let stdout = '';
      let stderr = '';
      let timer: NodeJS.Timeout | undefined;
      const afterUpdates = attempt % 3;
      if (attempt < MAX_KILLS && afterUpdates === 0) timer = setTimeout(kill, delays[attempt] * 400);
      child.stdout.on('data', (d) => {
        stdout += d;
        if (attempt < MAX_KILLS && afterUpdates > 0 && timer === undefined && (stdout.match(/^step \d+\/\d+ /gm) ?? []).length >= afterUpdates) timer = setTimeout(kill, delays[attempt] * 20);
      });
      child.stderr.on('data', (d) => (stderr += d));
      const [code, killedBy] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
      clearTimeout(timer);
      // Killed (by the signal, or SIGTERM handled: checkpoint and exit 143), or finished; never an error.
      expect({ attempt, code, killedBy, stderr: code === 1 ? stderr : '' }).toEqual(expect.objectContaining({ attempt, stderr: '' }));
      if (code === 143) {
        graceful++;
        expect(stdout).toMatch(/stopped at update \d+; continue with the same command and --resume/);
      }
      if (code !== 0) kills++;
      else break;
    }
    expect(kills).toBeGreaterThanOrEqual(24);
    expect(graceful).toBeGreaterThan(0);
    expectSameCheckpoint('reference', 'killed');
    expect(readCheckpointInfo(at('killed', 'teacher.safetensors')).step).toBe(STEPS);
    expect(fs.readdirSync(at('killed')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 600_000);

  test('SIGTERM saves a checkpoint and exits like Ctrl-C', async () => {
    const child = spawn(process.execPath, [bin, ...train('term', 1000, ['--save-every', '1000'])], { cwd: dir });
    let stdout = '';
    child.stdout.on('data', (d) => {
      const before = stdout;
      stdout += d;
      if (/step 3\/1000/.test(stdout) && !/step 3\/1000/.test(before)) child.kill('SIGTERM');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(143);
    const stopped = Number(/stopped at update (\d+)/.exec(stdout)![1]);
    expect(stopped).toBeGreaterThanOrEqual(3);
    expect(readCheckpointInfo(at('term', 'teacher.safetensors')).step).toBe(stopped);
  });

  test('a checkpoint whose weights file is older (killed between the two writes) resumes, and the weights file is brought up to date', () => {
    kdsrOk(train('stale', 5), dir);
    fs.copyFileSync(at('stale', 'teacher.safetensors'), at('teacher5.safetensors'));
    kdsrOk(train('stale', 6, ['--resume']), dir);
    fs.copyFileSync(at('teacher5.safetensors'), at('stale', 'teacher.safetensors'));
    expect(kdsrOk(train('stale', 6, ['--resume']), dir)).toMatch(/resuming stage 1 from update 6/);
    expect(readCheckpointInfo(at('stale', 'teacher.safetensors')).step).toBe(6);
    expect(fs.readFileSync(at('stale', 'stage1.log.jsonl'), 'utf8')).toContain('"type":"resume","step":6}');
    kdsrOk(train('stale', STEPS, ['--resume']), dir);
    expectSameCheckpoint('reference', 'stale');
  });

  test('a run of the earlier two-file layout, its data moved elsewhere, resumes bit-exactly', () => {
    kdsrOk(train('legacy', 6), dir);
    // The earlier layout: weights only in teacher.safetensors; run.json with the data's absolute path and no content identity.
    const state = at('legacy', 'teacher.train.safetensors');
    const { tensors, metadata } = loadSafetensors(state);
    saveSafetensors(state, new Map([...tensors].filter(([k]) => !k.startsWith('model.'))), metadata);
    for (const t of tensors.values()) t.dispose();
    const run = JSON.parse(fs.readFileSync(at('legacy', 'stage1.run.json'), 'utf8'));
    delete run.dataset;
    run.data = '/elsewhere/datasets/hr';
    fs.writeFileSync(at('legacy', 'stage1.run.json'), JSON.stringify(run));
    // A fresh clone: the run folder and the data at other paths.
    fs.cpSync(at('legacy'), at('clone', 'models', 'legacy'), { recursive: true });
    fs.cpSync(at('hr'), at('clone', 'data', 'hr'), { recursive: true });
    const resumed = kdsrOk(['train', '--stage', '1', '--data', 'data/hr', '--out', 'models/legacy', ...TINY, '--steps', String(STEPS), '--save-every', '1', '--resume'], at('clone'));
    expect(resumed).toContain('resuming stage 1 from update 6');
    expect(resumed).toMatch(/note: the data is now \S*clone\/data\/hr \(the run started with \/elsewhere\/datasets\/hr\)/);
    fs.cpSync(at('clone', 'models', 'legacy'), at('migrated'), { recursive: true });
    expectSameCheckpoint('reference', 'migrated');
    // Now recorded by content: other images are refused, wherever they are.
    fs.rmSync(at('clone', 'data', 'hr', 'im3.png'));
    const other = kdsr(['train', '--stage', '1', '--data', 'data/hr', '--out', 'models/legacy', ...TINY, '--steps', '20', '--resume'], at('clone'));
    expect(other.stderr).toMatch(/cannot resume a different run .*\n\s+data: \S*data\/hr holds other images than the saved run's data \(4 images then, 3 now\)/);
  });

  test('unreadable training images are listed, and a new run refuses to start on too many of them', async () => {
    fs.mkdirSync(at('mixed'));
    for (let i = 0; i < 3; i++) fs.writeFileSync(at('mixed', `broken${i}.png`), Buffer.from('\x89PNG\r\n\x1a\nnot a PNG'));
    await writeTestPng(at('mixed', 'good.png'), 64, 64, 5);
    const args = (out: string, extra: string[] = []) => ['train', '--stage', '1', '--data', 'mixed', '--out', out, ...TINY, '--batch', '1', '--steps', '1', ...extra];
    const refused = kdsr(args('mixed-out'), dir);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^kdsr: 3 of 4 training images in mixed are unreadable \(listed in mixed-out\/stage1\.unreadable\.txt\): repair or remove them, or pass --max-unreadable 0\.75 to train on the others\n$/);
    const list = fs.readFileSync(at('mixed-out', 'stage1.unreadable.txt'), 'utf8').trim().split('\n');
    expect(list).toHaveLength(3);
    expect(list[0]).toMatch(/mixed\/broken0\.png/);
    const accepted = kdsrOk(args('mixed-out', ['--max-unreadable', '0.75']), dir);
    expect(accepted).toMatch(/warning: 3 of 4 training images in mixed are unreadable .*; training on the other 1/);
    const log = fs.readFileSync(at('mixed-out', 'stage1.log.jsonl'), 'utf8');
    expect(log).toMatch(/"type":"unreadable","count":3,"images":4/);
    fs.rmSync(at('mixed', 'good.png'));
    expect(kdsr(args('none-out', ['--max-unreadable', '1']), dir).stderr).toMatch(/^kdsr: 3 of 3 training images in mixed are unreadable .*: there is nothing to train on/);
  });

  test('an --out folder that cannot be created is a one-line error, not a hang', () => {
    const r = kdsr(['train', '--stage', '1', '--data', 'hr', '--out', '/proc/kdsr-test/run', ...TINY, '--steps', '1'], dir, { timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('kdsr: Cannot create the folder /proc/kdsr-test: this file system does not allow new folders there\n');
  });
});

describe('kdsr train --stage 3: nothing lost', () => {
  let dir: string;
  let cleanup: () => void;
  const at = (...parts: string[]) => path.join(dir, ...parts);
  // Second-order pairs of 96px through a pool of 4 pairs (batch 2): from update 3 on, every batch
  // is drawn from the pool, so a resume that did not restore the pool's content would diverge.
  const STAGE3 = ['--data', 'hr', '--degradation', 'realesrgan', '--pool', '4', '--batch', '2', '--patch', '24', '--workers', '1', '--seed', '5'];
  const UPDATES = 8;
  const gan = (out: string, extra: string[] = []) => ['train', '--stage', '3', '--out', out, ...STAGE3, '--vgg', 'vgg.safetensors', '--teacher', 'nets/teacher.safetensors', '--student', 'nets/student.safetensors', '--d-feats', '8', '--steps', String(UPDATES), '--save-every', '1', '--log-every', '1', ...extra];

  beforeAll(async () => {
    ({ dir, cleanup } = scratchDir());
    for (let i = 0; i < 3; i++) await writeTestPng(at('hr', `im${i}.png`), 160, 168, 30 + i);
    saveSafetensors(at('vgg.safetensors'), testing.fixtureGroup('gan.safetensors', 'percep.vgg.'));
    const net = ['--data', 'hr', '--out', 'nets', '--batch', '2', '--patch', '12', '--workers', '1', '--steps', '2'];
    kdsrOk(['train', '--stage', '1', ...net, '--n-feats', '8', '--n-blocks', '2', '--n-resblocks', '1'], dir, { env: ONE_THREAD });
    kdsrOk(['train', '--stage', '2', ...net], dir, { env: ONE_THREAD });
    kdsrOk(gan('reference'), dir, { env: ONE_THREAD });
  });
  afterAll(() => cleanup());

  test('killed (SIGKILL, SIGTERM, during saves too) and resumed, it ends bit-identical to an uninterrupted run: student, discriminator, EMA, both Adam states, the pool', async () => {
    // Each attempt is stopped a little after it logs its first or second update (while that
    // update's checkpoint is being written), or early in its start-up.
    const plan: Array<{ signal: NodeJS.Signals; afterUpdates: number; delayMs: number }> = [
      { signal: 'SIGKILL', afterUpdates: 3, delayMs: 5 },
      { signal: 'SIGTERM', afterUpdates: 1, delayMs: 0 },
      { signal: 'SIGKILL', afterUpdates: 0, delayMs: 1500 },
      { signal: 'SIGKILL', afterUpdates: 2, delayMs: 30 },
    ];
    let graceful = 0;
    for (let attempt = 0; ; attempt++) {
      const resume = fs.existsSync(at('killed', 'stage3.run.json')) ? ['--resume'] : [];
      const child = spawn(process.execPath, [bin, ...gan('killed', resume)], { cwd: dir, env: ONE_THREAD });
      const kill = plan[attempt];
      let stdout = '';
      let stderr = '';
      let timer: NodeJS.Timeout | undefined;
      if (kill?.afterUpdates === 0) timer = setTimeout(() => child.kill(kill.signal), kill.delayMs);
      child.stdout.on('data', (d) => {
        stdout += d;
        if (kill && kill.afterUpdates > 0 && timer === undefined && (stdout.match(/^step \d+\/\d+ /gm) ?? []).length >= kill.afterUpdates) timer = setTimeout(() => child.kill(kill.signal), kill.delayMs);
      });
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      clearTimeout(timer);
      expect({ attempt, stderr: code === 1 ? stderr : '' }).toEqual({ attempt, stderr: '' });
      if (code === 143) {
        graceful++;
        expect(stdout).toMatch(/stopped at update \d+; continue with the same command and --resume/);
      }
      if (code === 0) break;
      expect(attempt).toBeLessThan(plan.length);
    }
    expect(graceful).toBe(1);
    for (const file of ['gan.safetensors', 'gan.train.safetensors', 'discriminator.safetensors']) {
      const x = tensorBytes(at('reference', file));
      const y = tensorBytes(at('killed', file));
      expect([...y.keys()].sort()).toEqual([...x.keys()].sort());
      for (const [name, bytes] of x) expect({ file, name, equal: bytes.equals(y.get(name)!) }).toEqual({ file, name, equal: true });
    }
    const keys = [...tensorBytes(at('killed', 'gan.train.safetensors')).keys()];
    for (const group of ['model.', 'adam.', 'adam_d.', 'ema.', 'disc.', 'teacher.E.']) expect({ group, saved: keys.some((k) => k.startsWith(group)) }).toEqual({ group, saved: true });
    const state = (file: string) => JSON.parse(readSafetensorsHeader(at(file, 'gan.train.safetensors')).metadata.state);
    expect(state('killed')).toEqual(state('reference'));
    expect(state('killed').data.pool.pairs).toHaveLength(4);
    expect(readCheckpointInfo(at('killed', 'gan.safetensors'))).toMatchObject({ stage: 3, step: UPDATES });
    expect(fs.readFileSync(at('killed', 'stage3.log.jsonl'), 'utf8')).toMatch(/"type":"resume","step":[1-9]/);
  }, 300_000);
});
