import * as fs from 'fs';
import * as path from 'path';
import { Tensor, tidy } from '@kdsr/cuda';
import {
  anisotropicSettings,
  benchmarkPair,
  decodeImageFile,
  degradeClassic,
  gaussian8Settings,
  gaussianKernel,
  generateBenchmarkSet,
  hostImage,
  parseTestSettings,
  RandomStream,
  writeImage,
} from '../src';
import { randomArray, scratchDir } from './helpers';

describe('benchmark-set generation', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => ({ dir, cleanup } = scratchDir()));
  afterAll(() => cleanup());

  async function makeHrFolder(root: string): Promise<void> {
    // A 50x37 PNG (not multiples of 4) at the top and a 40x44 PNG in a sub-folder, plus a non-image.
    for (const [rel, h, w, seed] of [
      ['a.png', 50, 37, 1],
      ['sub/b.png', 40, 44, 2],
    ] as const) {
      const im = hostImage(3, h, w);
      const r = randomArray(im.data.length, seed, 0, 1);
      // Smooth structure plus texture, on the 8-bit grid.
      for (let i = 0; i < r.length; i++) im.data[i] = Math.round(255 * (0.5 + 0.3 * Math.sin(i / 17) + 0.2 * (r[i] - 0.5))) / 255;
      await writeImage(path.join(root, rel), im);
    }
    fs.writeFileSync(path.join(root, 'notes.txt'), 'not an image');
  }

  test('writes every setting deterministically and as degradeClassic would', async () => {
    const hrDir = path.join(dir, 'hr');
    await makeHrFolder(hrDir);
    const settings = [...gaussian8Settings(4).slice(0, 2), anisotropicSettings(4, [10])[4]];
    const first = await generateBenchmarkSet({ hrDir, outDir: path.join(dir, 'out1'), settings, seed: 9 });
    await generateBenchmarkSet({ hrDir, outDir: path.join(dir, 'out2'), settings, seed: 9 });
    expect(first.images).toEqual(['a.png', path.join('sub', 'b.png')]);
    expect(first.folders).toEqual(['HR_x4', 'iso_x4_s1.8', 'iso_x4_s2.0', 'aniso5_x4_n10']);
    for (const folder of first.folders)
      for (const rel of first.images) {
        const a = fs.readFileSync(path.join(dir, 'out1', folder, rel));
        const b = fs.readFileSync(path.join(dir, 'out2', folder, rel));
        expect(a.equals(b)).toBe(true);
      }
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'out1', 'manifest.json'), 'utf8'));
    expect(manifest.seed).toBe(9);
    expect(manifest.settings[2].noise).toBe(10);

    // Recompute image 1 under setting 2 (noisy) from its stream and compare the written levels.
    const { rgb } = await decodeImageFile(path.join(hrDir, 'sub', 'b.png'));
    const hrWritten = await decodeImageFile(path.join(dir, 'out1', 'HR_x4', 'sub', 'b.png'));
    expect([hrWritten.rgb.height, hrWritten.rgb.width]).toEqual([40, 44]);
    const aWritten = await decodeImageFile(path.join(dir, 'out1', 'HR_x4', 'a.png'));
    expect([aWritten.rgb.height, aWritten.rgb.width]).toEqual([48, 36]);
    const lrWritten = await decodeImageFile(path.join(dir, 'out1', 'aniso5_x4_n10', 'sub', 'b.png'));
    const expected = tidy(() => {
      const x = Tensor.fromArray(rgb.data, [1, 3, 40, 44]);
      const stream = new RandomStream(9).fork(2).fork(1);
      return degradeClassic(x, { scale: 4, kernels: gaussianKernel(settings[2].kernel!), noiseSigma: 10 }, { stream }).lr.toArray();
    });
    expect(lrWritten.rgb.data.length).toBe(expected.length);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(lrWritten.rgb.data[i] - expected[i]));
    expect(worst).toBeLessThan(1e-6);
    // benchmarkPair gives the same LR in memory (what an evaluation synthesises without the files).
    const pair = benchmarkPair(rgb, settings[2], 2, 1, 9);
    expect([pair.hr.height, pair.hr.width]).toEqual([40, 44]);
    expect(Buffer.from(pair.lr.toFloat32Array().buffer).equals(Buffer.from(Float32Array.from(expected).buffer))).toBe(true);
    pair.lr.dispose();

    // A different seed changes only the noisy setting.
    await generateBenchmarkSet({ hrDir, outDir: path.join(dir, 'out3'), settings, seed: 10 });
    const same = (folder: string) => fs.readFileSync(path.join(dir, 'out1', folder, 'a.png')).equals(fs.readFileSync(path.join(dir, 'out3', folder, 'a.png')));
    expect(same('iso_x4_s1.8')).toBe(true);
    expect(same('aniso5_x4_n10')).toBe(false);
  });

  test('rejects duplicate setting names and empty folders', async () => {
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    const s = gaussian8Settings(4)[0];
    await expect(generateBenchmarkSet({ hrDir: empty, outDir: path.join(dir, 'x'), settings: [s, s] })).rejects.toThrow(/duplicate setting name/);
    await expect(generateBenchmarkSet({ hrDir: empty, outDir: path.join(dir, 'x'), settings: [s] })).rejects.toThrow(/no images/);
  });

  test('parseTestSettings: the named sets, single kernels and setting names', () => {
    expect(parseTestSettings('gaussian8', 4)).toEqual(gaussian8Settings(4));
    expect(parseTestSettings('aniso', 4)).toEqual(anisotropicSettings(4));
    expect(parseTestSettings('aniso:20', 4)).toEqual(anisotropicSettings(4, [20]));
    expect(parseTestSettings('iso_x2_s1.3', 2)).toEqual([gaussian8Settings(2)[4]]);
    expect(parseTestSettings('aniso6_x4_n10', 4)).toEqual([anisotropicSettings(4)[16]]);
    expect(parseTestSettings('iso:2.6', 3)).toEqual([{ name: 'iso_x3_s2.6_n0', scale: 3, kernel: { sigmaX: 2.6, sigmaY: 2.6, theta: 0 }, noise: 0 }]);
    const [aniso] = parseTestSettings('aniso:4.0,1.5,120:10', 4);
    expect(aniso).toEqual({ name: 'aniso_x4_l4.0_1.5_t120_n10', scale: 4, kernel: { sigmaX: 4, sigmaY: 1.5, theta: (2 * Math.PI) / 3 }, noise: 10 });
    expect(() => parseTestSettings('gaussian8', 3)).toThrow(/x2 and x4, not x3/);
    expect(() => parseTestSettings('iso:0', 4)).toThrow(/must be positive/);
    expect(() => parseTestSettings('blurry', 4)).toThrow(/unknown test setting 'blurry' at x4: use gaussian8/);
  });
});
