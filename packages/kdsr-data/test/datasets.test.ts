import * as fs from 'fs';
import * as path from 'path';
import { dispose, Tensor } from '@kdsr/cuda';
import {
  augment,
  Batch,
  buildLmdb,
  ClassicSampler,
  cropImage,
  cropOrigin,
  decodeImageFile,
  degradeWithSampler,
  encodeImage,
  HostImage,
  hostImage,
  listImageFiles,
  openHrFolder,
  openLmdbDataset,
  openPairedFolders,
  padBottomRight,
  PatchLoader,
  RandomStream,
  SampleDecoder,
  scanDataset,
  subImageOrigins,
  writeImage,
} from '../src';
import { randomArray, scratchDir } from './helpers';

/** A random image on the 8-bit grid. */
function levelImage(height: number, width: number, seed: number): HostImage {
  const im = hostImage(3, height, width);
  const r = randomArray(im.data.length, seed, 0, 1);
  for (let i = 0; i < r.length; i++) im.data[i] = Math.min(Math.floor(r[i] * 256), 255) / 255;
  return im;
}

/** 2x2 box mean. */
function boxDown(im: HostImage): HostImage {
  const out = hostImage(3, im.height / 2, im.width / 2);
  for (let c = 0; c < 3; c++)
    for (let i = 0; i < out.height; i++)
      for (let j = 0; j < out.width; j++) {
        const at = (y: number, x: number) => im.data[(c * im.height + y) * im.width + x];
        out.data[(c * out.height + i) * out.width + j] = (at(2 * i, 2 * j) + at(2 * i + 1, 2 * j) + at(2 * i, 2 * j + 1) + at(2 * i + 1, 2 * j + 1)) / 4;
      }
  return out;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

async function collect(loader: PatchLoader, epoch: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader.epoch(epoch)) out.push(b);
  return out;
}

describe('datasets and loader', () => {
  let dir: string;
  let cleanup: () => void;
  const images = new Map<string, HostImage>();
  beforeAll(async () => {
    ({ dir, cleanup } = scratchDir());
    // HR folder: 4 usable images (two in a sub-folder, one JPEG-free WebP), one too small, one corrupt, one text file.
    const specs: Array<[string, number, number]> = [
      ['a.png', 40, 36],
      ['b.png', 33, 48],
      ['sub/c.png', 20, 20],
      ['sub/deeper/d.webp', 24, 30],
      ['small.png', 12, 40],
    ];
    for (const [rel, h, w] of specs) {
      const im = levelImage(h, w, rel.length * 7 + h);
      images.set(rel, im);
      await writeImage(path.join(dir, 'hr', rel), im, { lossless: true });
    }
    const good = await encodeImage(levelImage(20, 20, 1), 'png');
    fs.writeFileSync(path.join(dir, 'hr', 'corrupt.png'), good.subarray(0, good.length - 50));
    fs.writeFileSync(path.join(dir, 'hr', 'readme.txt'), 'x');
  });
  afterAll(() => cleanup());

  test('listImageFiles: recursive, filtered, sorted', async () => {
    const hr = path.join(dir, 'hr');
    expect(await listImageFiles(hr)).toEqual(['a.png', 'b.png', 'corrupt.png', 'small.png', 'sub/c.png', 'sub/deeper/d.webp'].map((p) => p.split('/').join(path.sep)));
    expect(await listImageFiles(hr, { recursive: false })).toEqual(['a.png', 'b.png', 'corrupt.png', 'small.png']);
    expect(await listImageFiles(hr, { extensions: ['.webp'] })).toEqual([path.join('sub', 'deeper', 'd.webp')]);
    await expect(listImageFiles(path.join(dir, 'nope'))).rejects.toThrow(/nope/);
  });

  test('augment: flips then transpose, as KDSR-classic', () => {
    const im = levelImage(3, 5, 3);
    const at = (x: HostImage, c: number, i: number, j: number) => x.data[(c * x.height + i) * x.width + j];
    const t = augment(im, { hflip: true, vflip: false, transpose: true });
    expect([t.height, t.width]).toEqual([5, 3]);
    for (let c = 0; c < 3; c++) for (let i = 0; i < 5; i++) for (let j = 0; j < 3; j++) expect(at(t, c, i, j)).toBe(at(im, c, j, 4 - i));
    const v = augment(im, { hflip: false, vflip: true, transpose: false });
    for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) expect(at(v, 1, i, j)).toBe(at(im, 1, 2 - i, j));
    expect(cropOrigin(10, 4, 0)).toBe(0);
    expect(cropOrigin(10, 4, 0.9999)).toBe(6);
  });

  test('scan reports the corrupt file and keeps the rest', async () => {
    const { dataset, report } = await scanDataset(await openHrFolder(path.join(dir, 'hr')), { workers: 2 });
    expect(report.total).toBe(6);
    expect(report.valid).toBe(5);
    expect(report.corrupt.map((c) => path.basename(c.name))).toEqual(['corrupt.png']);
    expect(report.corrupt[0].message).toMatch(/corrupt\.png/);
    expect(report.minSize).toEqual([12, 20]);
    expect(dataset.files).not.toContain('corrupt.png');
  });

  test('HR loader: exact crops, skips too-small and corrupt images, reproducible across worker counts', async () => {
    const dataset = await openHrFolder(path.join(dir, 'hr'));
    const options = { dataset, batchSize: 3, lrPatch: 8, scale: 2, seed: 42, repeat: 3 };
    const one = new PatchLoader({ ...options, workers: 1 });
    const two = new PatchLoader({ ...options, workers: 2, prefetch: 5 });
    try {
      const a = await collect(one, 0);
      const b = await collect(two, 0);
      // 6 items x 3 repeats = 18 draws; 'small' (3) and 'corrupt' (3) are skipped: 12 samples, 4 batches.
      expect(a.length).toBe(4);
      expect(b.length).toBe(4);
      const stats = one.stats()!;
      expect(stats.skippedTooSmall).toBe(3);
      expect(stats.failed.map((f) => path.basename(f.name))).toEqual(['corrupt.png']);
      expect(stats.samples).toBe(12);
      expect(stats.samplesPerSecond).toBeGreaterThan(0);
      for (let k = 0; k < a.length; k++) {
        expect(a[k].hr.shape).toEqual([3, 3, 16, 16]);
        expect(a[k].lr).toBeNull();
        expect(a[k].names).toEqual(b[k].names);
        expect(maxDiff(a[k].hr.toArray(), b[k].hr.toArray())).toBe(0);
      }
      // Oracle: redo every sample from the loader's order and choices with plain crops and flips.
      const order = one.order(0);
      let position = 0;
      for (const batch of a) {
        const data = batch.hr.toArray();
        for (let s = 0; s < 3; s++) {
          let rel = dataset.files[order[position]];
          while (rel === 'small.png' || rel === 'corrupt.png') rel = dataset.files[order[++position]];
          const src = images.get(rel.split(path.sep).join('/'))!;
          expect(batch.names[s]).toBe(path.join(dataset.root, rel));
          const choice = one.choice(0, position);
          const top = cropOrigin(src.height, 16, choice.top);
          const left = cropOrigin(src.width, 16, choice.left);
          const expected = augment(cropImage(src, top, left, 16, 16), choice);
          expect(maxDiff(data.subarray(s * 768, (s + 1) * 768), expected.data)).toBeLessThan(1e-7);
          position++;
        }
      }
      // Another seed or epoch gives other batches.
      const other = new PatchLoader({ ...options, seed: 43, workers: 1 });
      const c = await collect(other, 0);
      await other.close();
      expect(maxDiff(c[0].hr.toArray(), a[0].hr.toArray())).toBeGreaterThan(0);
      dispose([a, b, c].flat().map((x) => x.hr));
    } finally {
      await one.close();
      await two.close();
    }
  });

  test('paired folders: aligned LR/HR patches; missing partners and size mismatches are reported', async () => {
    const hrRoot = path.join(dir, 'pair-hr');
    const lrRoot = path.join(dir, 'pair-lr');
    const hrs = [levelImage(32, 40, 5), levelImage(36, 24, 6)];
    for (let k = 0; k < 2; k++) {
      await writeImage(path.join(hrRoot, `p${k}.png`), hrs[k]);
      // 16-bit LR keeps the box mean (multiples of 1/1020) within 1e-5.
      await writeImage(path.join(lrRoot, `p${k}x2.png`), boxDown(hrs[k]), { bitDepth: 16 });
    }
    const dataset = await openPairedFolders(hrRoot, lrRoot, 2, { lrSuffix: 'x2' });
    expect(dataset.pairs).toEqual([
      { hr: 'p0.png', lr: 'p0x2.png' },
      { hr: 'p1.png', lr: 'p1x2.png' },
    ]);
    const loader = new PatchLoader({ dataset, batchSize: 2, lrPatch: 6, scale: 2, seed: 1, repeat: 4, workers: 2 });
    try {
      const batches = await collect(loader, 3);
      expect(batches.length).toBe(4);
      for (const batch of batches) {
        expect(batch.lr!.shape).toEqual([2, 3, 6, 6]);
        const hr = batch.hr.toArray();
        const lr = batch.lr!.toArray();
        for (let s = 0; s < 2; s++) {
          const hrPatch: HostImage = { data: Float32Array.from(hr.subarray(s * 432, (s + 1) * 432)), channels: 3, height: 12, width: 12 };
          expect(maxDiff(lr.subarray(s * 108, (s + 1) * 108), boxDown(hrPatch).data)).toBeLessThan(1e-5);
        }
      }
      dispose(batches.flatMap((b) => [b.hr, b.lr]));
    } finally {
      await loader.close();
    }
    await expect(openPairedFolders(hrRoot, lrRoot, 2)).rejects.toThrow(/no LR partner/);
    await writeImage(path.join(dir, 'bad-lr', 'p0x2.png'), levelImage(10, 10, 1));
    await writeImage(path.join(dir, 'bad-lr', 'p1x2.png'), boxDown(hrs[1]));
    const { report } = await scanDataset(await openPairedFolders(hrRoot, path.join(dir, 'bad-lr'), 2, { lrSuffix: 'x2' }), { workers: 1 });
    expect(report.valid).toBe(1);
    expect(report.corrupt[0].message).toMatch(/p0x2\.png is 10x10, expected HR 32x40 \/ 2/);
  });

  test('degrade callback makes the LR of HR-only batches', async () => {
    const dataset = await openHrFolder(path.join(dir, 'hr'), { recursive: false });
    const sampler = new ClassicSampler({ blur: 'iso', noiseLevel: 25 });
    const stream = new RandomStream(3);
    const loader = new PatchLoader({
      dataset,
      batchSize: 2,
      lrPatch: 8,
      scale: 2,
      workers: 1,
      repeat: 2,
      degrade: (hr) => {
        const r = degradeWithSampler(hr, sampler, stream, 2);
        dispose([r.lrPrequant]);
        return { lr: r.lr, hr: r.hr };
      },
    });
    try {
      const batches = await collect(loader, 0);
      expect(batches.length).toBeGreaterThan(0);
      for (const b of batches) {
        expect(b.lr!.shape).toEqual([2, 3, 8, 8]);
        expect(b.hr.shape).toEqual([2, 3, 16, 16]);
        // Quantised LR.
        for (const v of b.lr!.toArray()) expect(Math.abs(v * 255 - Math.round(v * 255))).toBeLessThan(1e-4);
      }
      dispose(batches.flatMap((b) => [b.hr, b.lr]));
    } finally {
      await loader.close();
    }
  });

  test('LMDB: sub-image extraction, corrupt files reported, loadable by the loader', async () => {
    expect(subImageOrigins(40, 16, 8)).toEqual([0, 8, 16, 24]);
    expect(subImageOrigins(33, 16, 8)).toEqual([0, 8, 16, 17]);
    expect(subImageOrigins(33, 16, 8, 2)).toEqual([0, 8, 16]);
    expect(subImageOrigins(12, 16, 8)).toEqual([0]);
    const lmdbPath = path.join(dir, 'train.lmdb');
    const report = await buildLmdb({ sourceDir: path.join(dir, 'hr'), lmdbPath, subImage: { size: 16, step: 8 } });
    expect(report.images).toBe(5);
    expect(report.corrupt.map((c) => path.basename(c.file))).toEqual(['corrupt.png']);
    // a 40x36: 4x4, b 33x48: 4x5, small 12x40 -> whole height: 1x4, c 20x20: 2x2, d 24x30: 2x3.
    expect(report.entries).toBe(16 + 20 + 4 + 4 + 6);
    const dataset = await openLmdbDataset(lmdbPath);
    expect(dataset.keys.length).toBe(report.entries);
    expect(dataset.keys[0]).toBe('a_s001');
    const key = dataset.keys.indexOf('b_s007'); // b: origins rows [0,8,16,17], cols [0,8,16,24,32]: #7 = row 8, col 8
    const decoder = new SampleDecoder(dataset);
    try {
      const r = await decoder.sample(key, null);
      expect(r.status).toBe('ok');
      if (r.status === 'ok') expect(maxDiff(r.hr.data, cropImage(images.get('b.png')!, 8, 8, 16, 16).data)).toBeLessThan(1e-7);
    } finally {
      await decoder.close();
    }
    const loader = new PatchLoader({ dataset, batchSize: 4, lrPatch: 4, scale: 4, workers: 2, seed: 5 });
    try {
      const batches = await collect(loader, 0);
      // 'small' sub-images are 12 high: 4 of the 50 entries are too small.
      expect(loader.stats()!.skippedTooSmall).toBe(4);
      expect(batches.length).toBe(Math.floor(46 / 4));
      dispose(batches.map((b) => b.hr));
    } finally {
      await loader.close();
    }
    await expect(openLmdbDataset(path.join(dir, 'missing.lmdb'))).rejects.toThrow(/missing\.lmdb/);
  });

  test('padBottomRight is OpenCV reflect-101, also over several periods', () => {
    const im = levelImage(3, 2, 8);
    const p = padBottomRight(im, 7, 6);
    expect([p.height, p.width]).toEqual([7, 6]);
    // Rows 0,1,2 then reflect-101: 1,0,1,2; columns 0,1 then 0,1,0,1.
    const rows = [0, 1, 2, 1, 0, 1, 2];
    const cols = [0, 1, 0, 1, 0, 1];
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < 7; i++) for (let j = 0; j < 6; j++) expect(p.data[(c * 7 + i) * 6 + j]).toBe(im.data[(c * 3 + rows[i]) * 2 + cols[j]]);
  });

  test('Real-ESRGAN GT preparation: small images padded, horizontal flips only', async () => {
    const dataset = await openHrFolder(path.join(dir, 'hr'), { recursive: false });
    const loader = new PatchLoader({ dataset, batchSize: 2, lrPatch: 6, scale: 4, workers: 1, augment: { hflip: true }, padSmall: true, seed: 3, repeat: 4 });
    try {
      const batches = await collect(loader, 0);
      // 4 top-level files x 4: corrupt.png fails 4 times, nothing is too small: 12 samples.
      expect(loader.stats()!.skippedTooSmall).toBe(0);
      expect(batches.length).toBe(6);
      let flips = 0;
      for (let p = 0; p < 20; p++) {
        const ch = loader.choice(0, p);
        expect(ch.vflip || ch.transpose).toBe(false);
        if (ch.hflip) flips++;
      }
      expect(flips).toBeGreaterThan(0);
      const order = loader.order(0);
      const pos = order.findIndex((i) => dataset.files[i] === 'small.png');
      const batchOf = order.slice(0, pos).filter((i) => dataset.files[i] !== 'corrupt.png').length;
      const batch = batches[Math.floor(batchOf / 2)];
      const ch = loader.choice(0, pos);
      const padded = padBottomRight(images.get('small.png')!, 24, 24);
      const expected = augment(cropImage(padded, cropOrigin(24, 24, ch.top), cropOrigin(40, 24, ch.left), 24, 24), ch);
      expect(maxDiff(batch.hr.toArray().subarray((batchOf % 2) * 1728, (batchOf % 2 + 1) * 1728), expected.data)).toBeLessThan(1e-7);
      dispose(batches.map((b) => b.hr));
    } finally {
      await loader.close();
    }
  });

  test('reads the shared training folders', async () => {
    const d = await openHrFolder('/work/shared/datasets/train', { extensions: ['.jpg'] });
    expect(d.files.length).toBe(80);
    const first = await decodeImageFile(path.join(d.root, d.files[0]));
    expect(Math.max(first.rgb.height, first.rgb.width)).toBe(1024);
    expect(Tensor).toBeDefined();
  });
});
