// Batch runs that finish and lose nothing: upscale/eval/scan go past bad files and report them,
// outputs never overwrite inputs or each other, are replaced only with --overwrite and appear
// complete or not at all; folders that cannot be made, wrong --model files and odd images get
// one-line messages that say what to do.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { bin, kdsr, kdsrOk, scratchDir, writeTestPng } from './helpers';

describe('kdsr batch runs: nothing lost, nothing stuck', () => {
  let dir: string;
  let cleanup: () => void;
  const at = (...parts: string[]) => path.join(dir, ...parts);
  const model = ['--model', 'run/student.safetensors'];
  const fails = (args: string[], message: RegExp, status = 1) => {
    const r = kdsr(args, dir, { timeout: 60_000 });
    expect({ args, status: r.status }).toEqual({ args, status });
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    return r;
  };

  beforeAll(async () => {
    ({ dir, cleanup } = scratchDir());
    for (let i = 0; i < 2; i++) await writeTestPng(at('hr', `im${i}.png`), 48, 48, i + 1);
    const tiny = ['--batch', '2', '--patch', '12', '--workers', '1', '--steps', '1'];
    kdsrOk(['train', '--stage', '1', '--data', 'hr', '--out', 'run', '--n-feats', '8', '--n-blocks', '1', '--n-resblocks', '1', ...tiny], dir);
    kdsrOk(['train', '--stage', '2', '--data', 'hr', '--out', 'run', ...tiny], dir);
    await writeTestPng(at('mixed', 'a.png'), 20, 16, 3);
    await writeTestPng(at('mixed', 'sub', 'a.png'), 16, 20, 4);
    fs.writeFileSync(at('mixed', 'b-truncated.png'), fs.readFileSync(at('mixed', 'a.png')).subarray(0, 120));
  });
  afterAll(() => cleanup());

  test('a folder run goes past an unreadable image, reports it with its reason, and ends with a summary and exit code 1', async () => {
    const r = kdsr(['upscale', 'mixed', ...model, '--out', 'up'], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^failed: Cannot read image mixed\/b-truncated\.png: .+\n$/);
    expect(r.stdout).toMatch(/\n2 upscaled, 1 failed\n$/);
    expect(await sharp(at('up', 'a_x4.png')).metadata()).toMatchObject({ width: 80, height: 64 });
    expect(await sharp(at('up', 'sub', 'a_x4.png')).metadata()).toMatchObject({ width: 64, height: 80 });
  });

  test('outputs never overwrite inputs or each other; existing outputs need --overwrite; earlier outputs are not upscaled again', async () => {
    const original = fs.readFileSync(at('mixed', 'a.png'));
    fails(['upscale', 'mixed/a.png', ...model, '--out', 'mixed/a.png'], /^kdsr: the output for mixed\/a\.png would overwrite the input mixed\/a\.png: choose another --out/);
    expect(fs.readFileSync(at('mixed', 'a.png')).equals(original)).toBe(true);
    fails(['upscale', 'mixed/a.png', 'mixed/sub/a.png', ...model, '--out', 'flat'], /^kdsr: mixed\/a\.png and mixed\/sub\/a\.png would both be written to flat\/a_x4\.png: upscale them in separate runs/);
    expect(fs.existsSync(at('flat'))).toBe(false);
    // Beside the inputs; then again on the same folder.
    fs.rmSync(at('mixed', 'b-truncated.png'));
    kdsrOk(['upscale', 'mixed', ...model], dir);
    const first = fs.readFileSync(at('mixed', 'a_x4.png'));
    fails(['upscale', 'mixed', ...model], /^kdsr: 2 outputs exist \(mixed\/a_x4\.png, mixed\/sub\/a_x4\.png\): pass --overwrite to replace them, or choose another --out\n$/);
    const again = kdsrOk(['upscale', 'mixed', ...model, '--overwrite'], dir);
    expect(again).toContain('skipped 2 earlier outputs (mixed/a_x4.png, mixed/sub/a_x4.png)');
    expect(again).toMatch(/\n2 upscaled\n$/);
    expect(fs.readFileSync(at('mixed', 'a_x4.png')).equals(first)).toBe(true);
    expect(fs.readdirSync(at('mixed')).sort()).toEqual(['a.png', 'a_x4.png', 'sub']);
    // Into an --out folder inside the input folder, twice: the first run's outputs are not inputs of the second.
    kdsrOk(['upscale', 'hr', ...model, '--out', 'hr/up'], dir);
    expect(kdsrOk(['upscale', 'hr', ...model, '--out', 'hr/up', '--overwrite'], dir)).toContain('skipped 2 earlier outputs (hr/up/im0_x4.png, hr/up/im1_x4.png)');
    expect(fs.readdirSync(at('hr', 'up')).sort()).toEqual(['im0_x4.png', 'im1_x4.png']);
    fs.rmSync(at('hr', 'up'), { recursive: true });
  });

  test('an interrupted write leaves no partial image: Ctrl-C removes the temporary file, and after kill -9 the next run does', async () => {
    await writeTestPng(at('big', 'big.png'), 256, 256, 9);
    const interrupt = async (signal: NodeJS.Signals) => {
      fs.rmSync(at('big-out'), { recursive: true, force: true });
      fs.mkdirSync(at('big-out'));
      const child = spawn(process.execPath, [bin, 'upscale', 'big/big.png', ...model, '--out', 'big-out/big.png', '--tile', '64'], { cwd: dir });
      // The first file to appear in the folder is what is being encoded: interrupt then.
      const watcher = fs.watch(at('big-out'), () => {
        watcher.close();
        child.kill(signal);
      });
      const [code, killedBy] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
      watcher.close();
      const files = fs.readdirSync(at('big-out'));
      // Either the signal came after the rename (a complete image), or there is no image at all.
      if (files.includes('big.png')) expect(await sharp(at('big-out', 'big.png')).metadata()).toMatchObject({ width: 1024, height: 1024 });
      return { code, killedBy, files };
    };
    const interrupted = await interrupt('SIGINT');
    expect(interrupted.code).toBe(130);
    expect(interrupted.files).toEqual([]);
    const killed = await interrupt('SIGKILL');
    expect(killed.killedBy).toBe('SIGKILL');
    expect(killed.files.filter((f) => f === 'big.png')).toEqual([]);
    kdsrOk(['upscale', 'big/big.png', ...model, '--out', 'big-out/big.png'], dir);
    expect(fs.readdirSync(at('big-out'))).toEqual(['big.png']);
  });

  test('eval and scan go past unusable images and name them', async () => {
    fs.mkdirSync(at('evalset'));
    for (const f of ['im0.png', 'im1.png']) fs.copyFileSync(at('hr', f), at('evalset', f));
    await sharp({ create: { width: 1, height: 1, channels: 3, background: 'red' } }).png().toFile(at('evalset', 'dot.png'));
    fs.symlinkSync(at('nowhere.png'), at('evalset', 'dangling.png'));
    const r = kdsr(['eval', ...model, '--hr', 'evalset', '--setting', 'iso:2.0'], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/failed: Cannot read image evalset\/dangling\.png: /);
    expect(r.stderr).toMatch(/failed: evalset\/dot\.png: a 1x1 image is smaller than the scale 4/);
    expect(r.stdout).toMatch(/on evalset, 2 images/);
    expect(r.stdout).toMatch(/\n2 images scored, 2 failed \(left out of the means\): evalset\/dangling\.png, evalset\/dot\.png$/m);
    const scanned = kdsr(['scan', 'evalset', '--workers', '1'], dir);
    expect(scanned.status).toBe(1);
    expect(scanned.stdout).toMatch(/evalset: 3 of 4 images readable/);
    expect(scanned.stdout).toMatch(/unreadable: Cannot read image evalset\/dangling\.png/);
  });

  test('a folder that cannot be created is a one-line error, not a hang (upscale, pack-lmdb, make-benchmark)', () => {
    const refused = /^kdsr: Cannot create the folder \/proc\/kdsr-test: this file system does not allow new folders there\n$/;
    fails(['upscale', 'hr/im0.png', ...model, '--out', '/proc/kdsr-test/x.png'], refused);
    fails(['pack-lmdb', 'hr', '/proc/kdsr-test/hr.lmdb'], refused);
    fails(['make-benchmark', '--hr', 'hr', '--out', '/proc/kdsr-test', '--setting', 'iso:2.0'], refused);
  });

  test('messages say what is wrong in the user\'s terms', async () => {
    fs.writeFileSync(at('notes.txt'), 'not a model\n');
    const notCheckpoint = /is not a model checkpoint: expected a kdsr \.safetensors file \(from kdsr train or kdsr convert\) or an official KDSR \.pth\n$/;
    fails(['upscale', 'hr/im0.png', '--model', 'hr/im1.png'], new RegExp(`^kdsr: hr/im1\\.png ${notCheckpoint.source}`));
    fails(['upscale', 'hr/im0.png', '--model', 'notes.txt'], new RegExp(`^kdsr: notes\\.txt ${notCheckpoint.source}`));
    fails(['upscale', 'hr/im0.png', '--model', 'run'], /^kdsr: run is a folder: give a checkpoint file \(a kdsr \.safetensors, or an official KDSR \.pth\)\n$/);
    const state = fails(['upscale', 'hr/im0.png', '--model', 'run/student.train.safetensors'], /^kdsr: run\/student\.train\.safetensors is a training state \(for resuming a run\), not a model; use the weights file beside it, run\/student\.safetensors\n$/);
    expect(state.stderr).not.toMatch(/importTorchCheckpoint/);
    fs.mkdirSync(at('no-images'));
    fails(['train', '--stage', '1', '--data', 'no-images', '--out', 'o'], /^kdsr: no images in no-images \(looked for \.png, \.jpg, \.jpeg, \.webp, \.tif, \.tiff files, in sub-folders too\)\n$/);
    // An animated WebP: the first frame, said so.
    const [w, h, frames] = [16, 12, 3];
    const stacked = Buffer.alloc(w * h * frames * 3);
    for (let i = 0; i < stacked.length; i++) stacked[i] = (i * 31) % 256;
    await sharp(stacked, { raw: { width: w, height: h * frames, channels: 3, pageHeight: h } }).webp({ loop: 0, lossless: true }).toFile(at('anim.webp'));
    const anim = kdsr(['upscale', 'anim.webp', ...model, '--out', 'anim_x4.png'], dir);
    expect(anim.status).toBe(0);
    expect(anim.stderr).toBe('note: anim.webp has 3 frames; only the first is upscaled\n');
    expect(await sharp(at('anim_x4.png')).metadata()).toMatchObject({ width: 64, height: 48 });
  });
});
