// The real binary (node dist/bin.js) on a tiny synthetic image folder: training both stages with an
// exact resume, upscaling (RGB, RGBA, 16-bit), benchmark generation and evaluation checked against
// each other, checkpoint conversion against the fixture, LMDB packing and scanning, and the errors a
// user sees for bad input.
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { saveSafetensors, testing } from '@kdsr/cuda';
import { readCheckpointInfo } from '@kdsr/core';
import { decodeImageFile, psnrKdsr } from '@kdsr/data';
import { fixturesDir, kdsr, kdsrOk, scratchDir, tensorBytes, writeTestPng } from './helpers';

const TINY = ['--n-feats', '8', '--n-blocks', '2', '--n-resblocks', '1', '--scale', '4', '--batch', '2', '--patch', '12', '--workers', '1', '--seed', '7'];

describe('kdsr end to end', () => {
  let dir: string;
  let cleanup: () => void;
  const at = (...parts: string[]) => path.join(dir, ...parts);

  beforeAll(async () => {
    ({ dir, cleanup } = scratchDir());
    for (let i = 0; i < 4; i++) await writeTestPng(at('hr', `im${i}.png`), 64, 64, i + 1);
    // Opaque left half, transparent right half.
    await writeTestPng(at('rgba.png'), 24, 20, 11, { alpha: (x) => (x < 12 ? 1 : 0) });
    await writeTestPng(at('deep.png'), 20, 16, 12, { bits16: true });
    fs.mkdirSync(at('bad'));
    fs.writeFileSync(at('bad', 'corrupt.png'), Buffer.from('\x89PNG\r\n\x1a\nthis is not really a PNG'));
    await writeTestPng(at('bad', 'fine.png'), 32, 32, 13);
  });
  afterAll(() => cleanup());

  test('stage 1: a resumed run ends with the weights and optimiser state of an uninterrupted one, bit for bit', () => {
    const whole = kdsrOk(['train', '--stage', '1', '--data', 'hr', '--out', 'whole', ...TINY, '--steps', '4', '--save-every', '2', '--log-every', '1', '--val', 'hr', '--val-every', '2'], dir);
    expect(whole).toMatch(/step 4\/4 {2}loss \d+\.\d+/);
    const psnrs = [...whole.matchAll(/validation PSNR (\d+\.\d+) dB/g)].map((m) => Number(m[1]));
    expect(psnrs).toHaveLength(2);
    expect(psnrs.every((p) => p > 5 && p < 60)).toBe(true);

    kdsrOk(['train', '--stage', '1', '--data', 'hr', '--out', 'parts', ...TINY, '--steps', '2', '--save-every', '2'], dir);
    const resumed = kdsrOk(['train', '--stage', '1', '--data', 'hr', '--out', 'parts', ...TINY, '--steps', '4', '--save-every', '2', '--resume'], dir);
    expect(resumed).toContain('resuming stage 1 from update 2');
    for (const file of ['teacher.safetensors', 'teacher.train.safetensors']) {
      const a = tensorBytes(at('whole', file));
      const b = tensorBytes(at('parts', file));
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      for (const [name, bytes] of a) expect({ file, name, equal: bytes.equals(b.get(name)!) }).toEqual({ file, name, equal: true });
    }
    expect(readCheckpointInfo(at('parts', 'teacher.safetensors'))).toMatchObject({ role: 'teacher', stage: 1, step: 4, preset: 'custom', config: { nFeats: 8, nBlocks: 2, nResblocks: 1, scale: 4 } });
    const log = fs.readFileSync(at('whole', 'stage1.log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log.filter((e) => e.type === 'progress').map((e) => e.step)).toEqual([1, 2, 3, 4]);
  });

  test('--resume refuses a different run, and a new run refuses to overwrite one', () => {
    const different = kdsr(['train', '--stage', '1', '--data', 'hr', '--out', 'parts', ...TINY, '--batch', '4', '--steps', '6', '--resume'], dir);
    expect(different.status).toBe(1);
    expect(different.stderr).toMatch(/cannot resume a different run .*\n\s+batch: 2 in the saved run, 4 now/);
    const again = kdsr(['train', '--stage', '1', '--data', 'hr', '--out', 'parts', ...TINY, '--steps', '6'], dir);
    expect(again.stderr).toMatch(/teacher\.safetensors exists: pass --resume/);
    expect(kdsr(['train', '--stage', '1', '--data', 'hr', '--out', 'empty', ...TINY, '--resume'], dir).stderr).toMatch(/nothing to resume in empty: .*teacher\.train\.safetensors not found/);
  });

  test('stage 2 distils a student from the stage-1 teacher', () => {
    const out = kdsrOk(['train', '--stage', '2', '--data', 'hr', '--out', 'whole', '--batch', '2', '--patch', '12', '--workers', '1', '--steps', '2', '--save-every', '2', '--log-every', '1'], dir);
    expect(out).toMatch(/step 2\/2 {2}loss \d+\.\d+ \(l1 \d+\.\d+, kd \d+\.\d+\)/);
    const info = readCheckpointInfo(at('whole', 'student.safetensors'));
    expect(info).toMatchObject({ role: 'student', stage: 2, step: 2, config: { nFeats: 8, nBlocks: 2, nResblocks: 1, scale: 4 } });
    const student = tensorBytes(at('whole', 'student.safetensors'));
    expect(student.has('E_st.E.0.weight')).toBe(true);
    // The frozen teacher encoder travels with the training state.
    const teacher = tensorBytes(at('whole', 'teacher.safetensors'));
    expect(tensorBytes(at('whole', 'student.train.safetensors')).get('teacher.E.E.0.weight')!.equals(teacher.get('E.E.0.weight')!)).toBe(true);
  });

  test('stage 3 (KDSR-GAN) fine-tunes the student against a discriminator, resumes bit for bit, and restarts from its discriminator', () => {
    // The fixtures' channel-reduced VGG19 in torchvision's layout stands in for vgg19-dcbb9e9d.pth.
    saveSafetensors(at('vgg.safetensors'), testing.fixtureGroup('gan.safetensors', 'percep.vgg.'));
    const GAN = ['--data', 'hr', '--vgg', 'vgg.safetensors', '--teacher', 'whole/teacher.safetensors', '--student', 'whole/student.safetensors', '--batch', '2', '--patch', '12', '--workers', '1', '--log-every', '1'];
    const whole = kdsrOk(['train', '--stage', '3', '--out', 'gan-whole', ...GAN, '--steps', '2', '--save-every', '2'], dir);
    expect(whole).toMatch(/step 2\/2 {2}G \d+\.\d+ \(l1 \d+\.\d+, percep \d+\.\d+, gan \d+\.\d+, kd \d+\.\d+\) {2}D real \d+\.\d+ fake \d+\.\d+/);
    expect(readCheckpointInfo(at('gan-whole', 'gan.safetensors'))).toMatchObject({ role: 'student', stage: 3, step: 2, config: { nFeats: 8, nBlocks: 2, nResblocks: 1, scale: 4 } });
    const state = tensorBytes(at('gan-whole', 'gan.train.safetensors'));
    for (const key of ['adam_d.exp_avg.conv1.weight_orig', 'disc.conv1.weight_u', 'ema.G.head.0.weight', 'adam.exp_avg.G.head.0.weight', 'teacher.E.E.0.weight'])
      expect({ key, saved: state.has(key) }).toEqual({ key, saved: true });

    kdsrOk(['train', '--stage', '3', '--out', 'gan-parts', ...GAN, '--steps', '1', '--save-every', '1'], dir);
    expect(kdsrOk(['train', '--stage', '3', '--out', 'gan-parts', ...GAN, '--steps', '2', '--save-every', '1', '--resume'], dir)).toContain('resuming stage 3 from update 1');
    for (const file of ['gan.safetensors', 'gan.train.safetensors', 'discriminator.safetensors']) {
      const a = tensorBytes(at('gan-whole', file));
      const b = tensorBytes(at('gan-parts', file));
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      for (const [name, bytes] of a) expect({ file, name, equal: bytes.equals(b.get(name)!) }).toEqual({ file, name, equal: true });
    }

    const restarted = kdsrOk(['train', '--stage', '3', '--out', 'gan-d', ...GAN, '--d-checkpoint', 'gan-whole/discriminator.safetensors', '--steps', '1'], dir);
    expect(restarted).toContain('discriminator gan-whole/discriminator.safetensors');
    expect(kdsr(['train', '--stage', '3', '--out', 'gan-x', ...GAN.filter((a) => a !== '--vgg' && a !== 'vgg.safetensors'), '--steps', '1'], dir).stderr).toMatch(/stage 3 needs VGG19 weights for the perceptual loss: pass --vgg vgg19-dcbb9e9d\.pth/);
    expect(kdsr(['train', '--stage', '3', '--out', 'gan-x', ...GAN, '--vgg', 'missing.pth', '--steps', '1'], dir).stderr).toMatch(/VGG19 weights not found at missing\.pth: download torchvision's vgg19-dcbb9e9d\.pth from https:\/\/download\.pytorch\.org/);
    expect(kdsr(['train', '--stage', '3', '--out', 'gan-x', ...GAN, '--patch', '11', '--steps', '1'], dir).stderr).toMatch(/--patch 11 gives 44px HR patches; the discriminator needs a multiple of 8/);
  });

  test('--degradation realesrgan: stage 1 resumes bit for bit, and stage 3 trains on second-order pairs', async () => {
    for (let i = 0; i < 2; i++) await writeTestPng(at('hr-large', `im${i}.png`), 160, 168, 20 + i);
    const REAL = ['--data', 'hr-large', '--degradation', 'realesrgan', '--batch', '2', '--patch', '24', '--workers', '1', '--seed', '3'];
    const net = ['--n-feats', '8', '--n-blocks', '1', '--n-resblocks', '1', '--scale', '4'];
    kdsrOk(['train', '--stage', '1', '--out', 'real-whole', ...REAL, ...net, '--steps', '2', '--save-every', '2'], dir);
    kdsrOk(['train', '--stage', '1', '--out', 'real-parts', ...REAL, ...net, '--steps', '1', '--save-every', '1'], dir);
    expect(kdsrOk(['train', '--stage', '1', '--out', 'real-parts', ...REAL, ...net, '--steps', '2', '--save-every', '1', '--resume'], dir)).toContain('realesrgan degradation');
    for (const file of ['teacher.safetensors', 'teacher.train.safetensors']) {
      const a = tensorBytes(at('real-whole', file));
      const b = tensorBytes(at('real-parts', file));
      for (const [name, bytes] of a) expect({ file, name, equal: bytes.equals(b.get(name)!) }).toEqual({ file, name, equal: true });
    }
    const gan = kdsrOk(['train', '--stage', '3', '--out', 'real-gan', ...REAL, '--vgg', 'vgg.safetensors', '--teacher', 'whole/teacher.safetensors', '--student', 'whole/student.safetensors', '--steps', '1', '--log-every', '1'], dir);
    expect(gan).toMatch(/step 1\/1 {2}G \d+\.\d+ .* D real \d+\.\d+ fake \d+\.\d+/);
    expect(kdsr(['train', '--stage', '1', '--out', 'real-x', ...REAL, ...net, '--patch', '16', '--steps', '1'], dir).stderr).toMatch(/--degradation realesrgan needs --patch 24 or more/);
    expect(kdsr(['train', '--stage', '1', '--out', 'real-y', ...REAL, ...net, '--noise', '5', '--steps', '1'], dir).stderr).toMatch(/--noise is for --degradation iso\|aniso/);
  });

  test('upscale: RGB, RGBA (alpha kept) and 16-bit PNGs come out 4x larger', async () => {
    const out = kdsrOk(['upscale', 'hr/im0.png', 'rgba.png', 'deep.png', '--model', 'whole/student.safetensors', '--out', 'up', '--tile', '32'], dir);
    expect(out).toContain('rgba.png (24x20) -> up/rgba_x4.png (96x80, alpha)');
    expect(await sharp(at('up', 'im0_x4.png')).metadata()).toMatchObject({ width: 256, height: 256, channels: 3, depth: 'uchar' });
    expect(await sharp(at('up', 'deep_x4.png')).metadata()).toMatchObject({ width: 80, height: 64, channels: 3, depth: 'ushort' });
    const { data, info } = await sharp(at('up', 'rgba_x4.png')).raw().toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width: 96, height: 80, channels: 4 });
    // Bicubic ×4 of a step edge at LR column 12: unchanged more than two LR pixels away from it.
    for (let y = 0; y < 80; y++)
      for (let x = 0; x < 96; x++) {
        const a = data[(y * 96 + x) * 4 + 3];
        if (x < 32) expect(a).toBe(255);
        if (x >= 64) expect(a).toBe(0);
      }
    // One input to a named file, in the format of its extension.
    kdsrOk(['upscale', 'hr/im1.png', '--model', 'whole/student.safetensors', '--out', 'one.jpg'], dir);
    expect(await sharp(at('one.jpg')).metadata()).toMatchObject({ format: 'jpeg', width: 256, height: 256 });
  });

  test('eval scores the images make-benchmark writes, as upscaling them and measuring does', async () => {
    kdsrOk(['make-benchmark', '--hr', 'hr', '--out', 'bench', '--setting', 'aniso:3.5,1.5,30:10', '--seed', '3'], dir);
    const setting = 'aniso_x4_l3.5_1.5_t30_n10';
    kdsrOk(['upscale', path.join('bench', setting), '--model', 'whole/student.safetensors', '--out', 'sr'], dir);
    const report = JSON.parse(kdsrOk(['eval', '--model', 'whole/student.safetensors', '--hr', 'hr', '--setting', 'aniso:3.5,1.5,30:10', '--seed', '3', '--json'], dir));
    expect(report.settings.map((s: { name: string }) => s.name)).toEqual([setting]);
    const images = report.settings[0].images as Array<{ name: string; psnr: number; ssim: number; psnrBasicsr: number; ssimBasicsr: number }>;
    expect(images.map((i) => i.name)).toEqual(['im0.png', 'im1.png', 'im2.png', 'im3.png']);
    for (const image of images) {
      const sr = await decodeImageFile(at('sr', image.name.replace('.png', '_x4.png')));
      const hr = await decodeImageFile(at('bench', 'HR_x4', image.name));
      expect(Math.abs(psnrKdsr(sr.rgb, hr.rgb, 4) - image.psnr)).toBeLessThan(0.01);
      for (const v of [image.psnr, image.psnrBasicsr]) expect(v).toBeGreaterThan(5);
      for (const v of [image.ssim, image.ssimBasicsr]) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    }
    // The readable table: one row per setting, then the mean.
    const table = kdsrOk(['eval', '--model', 'whole/student.safetensors', '--hr', 'hr', '--setting', 'iso:2.0', '--setting', 'iso:3.0', '--tile', '0'], dir);
    expect(table).toMatch(/iso_x4_s2\.0_n0\s+\d+\.\d{3}\s+0\.\d{4}\s+\d+\.\d{3}\s+0\.\d{4}\s+\d+\.\d{3}\s+0\.\d{4}\n/); // SR in both conventions, then bicubic
    expect(table).toMatch(/iso_x4_s3\.0_n0\s+\d+\.\d{3}/);
    expect(table).toMatch(/\nmean\s+\d+\.\d{3}/);
  });

  test('convert: the official tiny student .pth gives the fixture tensors', () => {
    const out = kdsrOk(['convert', path.join(fixturesDir(), 'student_tiny.pth'), 'student_tiny.safetensors'], dir);
    expect(out).toMatch(/-> student_tiny\.safetensors: student custom x4 \(n_feats 8, n_blocks 2, n_resblocks 1\)/);
    const converted = tensorBytes(at('student_tiny.safetensors'));
    const fixture = new Map([...tensorBytes(path.join(fixturesDir(), 'student_tiny.safetensors'))].filter(([k]) => k.startsWith('param.')).map(([k, v]) => [k.slice('param.'.length), v]));
    expect([...converted.keys()].sort()).toEqual([...fixture.keys()].sort());
    for (const [name, bytes] of fixture) expect({ name, equal: bytes.equals(converted.get(name)!) }).toEqual({ name, equal: true });
  });

  test('pack-lmdb, scan, and training from the LMDB', () => {
    expect(kdsrOk(['pack-lmdb', 'hr', 'hr.lmdb'], dir)).toMatch(/4 images -> 4 entries in hr\.lmdb/);
    expect(kdsrOk(['scan', 'hr.lmdb', '--workers', '1'], dir)).toMatch(/hr\.lmdb: 4 of 4 images readable, smallest 64x64/);
    const scanBad = kdsr(['scan', 'bad', '--workers', '1'], dir);
    expect(scanBad.status).toBe(1);
    expect(scanBad.stdout).toMatch(/bad: 1 of 2 images readable/);
    expect(scanBad.stdout).toMatch(/unreadable: .*corrupt\.png/);
    // A preset with one size overridden (the others stay the preset's).
    const fromLmdb = kdsrOk(['train', '--stage', '1', '--data', 'hr.lmdb', '--out', 'from-lmdb', '--preset', 'L', '--n-blocks', '1', '--batch', '1', '--patch', '8', '--workers', '1', '--steps', '1'], dir);
    expect(fromLmdb).toMatch(/teacher custom \(n_feats 128, n_blocks 1, n_resblocks 5, x4/);
    expect(fromLmdb).toMatch(/step 1\/1/);
  });

  test('clear errors for missing files, corrupt images and bad options', () => {
    const fails = (args: string[], message: RegExp) => {
      const r = kdsr(args, dir);
      expect({ args, status: r.status }).toEqual({ args, status: 1 });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    };
    const model = ['--model', 'whole/student.safetensors'];
    fails(['upscale', 'missing.png', ...model], /^kdsr: missing\.png: no such file or folder/);
    fails(['upscale', 'bad/corrupt.png', ...model], /^failed: Cannot read image bad\/corrupt\.png: /);
    fails(['upscale', 'hr/im0.png', '--model', 'nowhere.safetensors'], /nowhere\.safetensors: checkpoint not found/);
    fails(['upscale', 'hr/im0.png', '--model', 'whole/teacher.safetensors'], /is a stage-1 teacher: its encoder needs the HR image/);
    fails(['upscale', 'hr/im0.png', ...model, '--out', 'x.bmp'], /Cannot write image x\.bmp: unknown extension/);
    fails(['upscale', 'hr', ...model, '--out', 'all.png'], /names one image but there are 4 inputs/);
    fails(['upscale', 'hr/im0.png', ...model, '--tile', 'big'], /option '--tile <n>' argument 'big' is invalid/);
    fails(['train', '--stage', '1', '--data', 'hr', '--out', 'o', '--batch', '0'], /option '--batch <n>' argument '0' is invalid\. Expected a positive integer/);
    fails(['train', '--stage', '4', '--data', 'hr', '--out', 'o'], /option '--stage <stage>' argument '4' is invalid\. Allowed choices are 1, 2, 3/);
    fails(['train', '--data', 'hr', '--out', 'o'], /required option '--stage <stage>' not specified/);
    fails(['train', '--stage', '1', '--data', 'hr', '--out', 'o', '--lr-decay', 'step:0:0.5'], /argument 'step:0:0\.5' is invalid/);
    fails(['train', '--stage', '1', '--data', 'nowhere', '--out', 'o'], /nowhere: no such folder or LMDB file/);
    fails(['train', '--stage', '2', '--data', 'hr', '--out', 'o2', '--batch', '2'], /stage 2 needs a trained teacher: .*teacher\.safetensors not found/);
    fails(['train', '--stage', '1', '--data', 'hr', '--out', 'o', '--vgg', 'vgg.pth'], /^kdsr: --vgg is for stage 3 \(KDSR-GAN\)\n$/);
    fails(['train', '--stage', '2', '--data', 'hr', '--out', 'o', '--n-feats', '8', '--n-blocks', '2'], /^kdsr: --n-feats, --n-blocks are for stage 1: later stages take the network size/);
    fails(['train', '--stage', '1', '--data', 'hr', '--out', 'o', '--pool', '4'], /^kdsr: --pool is for --degradation realesrgan/);
    fails(['train', '--stage', '1', '--data', 'hr', '--out', 'o', '--degradation', 'realesrgan', '--batch', '4', '--pool', '6'], /^kdsr: --pool 6 must be a multiple of --batch 4/);
    fails(['train', '--stage', '1', '--data', 'hr', '--out', 'o3', ...TINY, '--patch', '40', '--steps', '1'], /gave no complete batch of 2 \(4 draws too small for a 160px HR patch/);
    fails(['eval', ...model, '--hr', 'hr', '--setting', 'blurry'], /unknown test setting 'blurry' at x4/);
    fails(['eval', ...model, '--hr', 'hr', '--scale', '2'], /--scale 2 does not match the model's x4/);
    fails(['convert', 'missing.pth', 'out.safetensors'], /missing\.pth: no such file/);
    fails(['convert', 'bad/corrupt.png', 'out.safetensors'], /^kdsr: /);
  });
});
