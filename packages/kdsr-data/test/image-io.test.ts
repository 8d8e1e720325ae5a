import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { tidy } from '@kdsr/cuda';
import { decodeImageFile, encodeImage, HostImage, hostImage, ImageCanvas, quantizeValue, readImage, roundHalfEven, writeImage } from '../src';
import { datasetsDir, randomArray, scratchDir } from './helpers';

// Images on the 8-bit (or 16-bit) grid, so a lossless round trip must be exact.
function levelImage(channels: number, height: number, width: number, levels: number, seed: number): HostImage {
  const image = hostImage(channels, height, width);
  const r = randomArray(image.data.length, seed, 0, 1);
  for (let i = 0; i < r.length; i++) image.data[i] = Math.floor(r[i] * (levels + 1)) / levels;
  return image;
}

function expectExact(actual: Float32Array, expected: Float32Array, label: string): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  if (worst > 1e-7) throw new Error(`${label}: max difference ${worst}`);
}

/** Grey images come back as 3 identical channels. */
function expandGrey(image: HostImage): Float32Array {
  if (image.channels === 3) return image.data;
  const plane = image.height * image.width;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) out.set(image.data.subarray(0, plane), c * plane);
  return out;
}

describe('image I/O', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => ({ dir, cleanup } = scratchDir()));
  afterAll(() => cleanup());

  const lossless: Array<[string, 8 | 16]> = [
    ['png', 8],
    ['png', 16],
    ['tiff', 8],
    ['tiff', 16],
    ['webp', 8],
  ];
  test.each(lossless)('%s %i-bit round trips grey, RGB and RGBA exactly', async (ext, bitDepth) => {
    const levels = bitDepth === 16 ? 65535 : 255;
    for (const [channels, withAlpha] of [
      [1, false],
      [1, true],
      [3, false],
      [3, true],
    ] as Array<[number, boolean]>) {
      const image = levelImage(channels, 7, 11, levels, 100 + channels);
      const alpha = withAlpha ? levelImage(1, 7, 11, levels, 7) : null;
      // WebP stores colour under fully transparent pixels only approximately: keep alpha > 0 there.
      if (alpha && ext === 'webp') for (let i = 0; i < alpha.data.length; i++) alpha.data[i] = Math.max(alpha.data[i], 1 / 255);
      const file = path.join(dir, `c${channels}${withAlpha ? 'a' : ''}_${bitDepth}.${ext}`);
      await writeImage(file, image, { bitDepth, alpha, lossless: true });
      const decoded = await decodeImageFile(file);
      const label = `${ext} ${bitDepth}-bit ${channels}ch alpha ${withAlpha}`;
      expect(decoded.info.bitDepth).toBe(bitDepth);
      // WebP has no grey mode: grey is stored as RGB.
      const stored = ext === 'webp' ? 3 : channels;
      expect(decoded.info.channels).toBe(stored + (withAlpha ? 1 : 0));
      expect([decoded.rgb.channels, decoded.rgb.height, decoded.rgb.width]).toEqual([3, 7, 11]);
      expectExact(decoded.rgb.data, expandGrey(image), label);
      if (alpha) expectExact(decoded.alpha!.data, alpha.data, `${label} alpha`);
      else expect(decoded.alpha).toBeNull();
    }
  });

  test('reads 16-bit PNG and TIFF written by sharp itself at full precision', async () => {
    const width = 5;
    const height = 4;
    const samples = new Uint16Array(width * height * 3).map((_, i) => (i * 2731 + 17) % 65536);
    for (const ext of ['png', 'tiff']) {
      const file = path.join(dir, `external16.${ext}`);
      let s = sharp(samples, { raw: { width, height, channels: 3 } }).toColourspace('rgb16');
      s = ext === 'png' ? s.png() : s.tiff({ compression: 'deflate' });
      await s.toFile(file);
      const { rgb, info } = await decodeImageFile(file);
      expect(info.bitDepth).toBe(16);
      for (let p = 0; p < width * height; p++)
        for (let c = 0; c < 3; c++) expect(rgb.data[c * width * height + p]).toBeCloseTo(samples[p * 3 + c] / 65535, 7);
    }
  });

  test('JPEG round trip is close and grey JPEG becomes 3 equal channels', async () => {
    // A smooth image, so JPEG at quality 100 changes it by little more than rounding.
    const image = hostImage(3, 32, 40);
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < 32; i++)
        for (let j = 0; j < 40; j++) image.data[(c * 32 + i) * 40 + j] = 0.5 + 0.3 * Math.sin(i / 7 + j / 11 + c);
    const file = path.join(dir, 'rgb.jpg');
    await writeImage(file, image, { quality: 100 });
    const decoded = await decodeImageFile(file);
    expect(decoded.info.format).toBe('jpeg');
    let sum = 0;
    for (let i = 0; i < image.data.length; i++) sum += Math.abs(decoded.rgb.data[i] - image.data[i]);
    expect(sum / image.data.length).toBeLessThan(1.5 / 255);

    const grey = levelImage(1, 16, 16, 255, 3);
    const greyFile = path.join(dir, 'grey.jpeg');
    await writeImage(greyFile, grey, { quality: 90 });
    const g = await decodeImageFile(greyFile);
    expect(g.info.channels).toBe(1);
    const plane = 256;
    for (let p = 0; p < plane; p++) {
      expect(g.rgb.data[plane + p]).toBe(g.rgb.data[p]);
      expect(g.rgb.data[2 * plane + p]).toBe(g.rgb.data[p]);
    }
  });

  test('applies the EXIF orientation', async () => {
    // 3 wide x 2 tall, every pixel distinct.
    const raw = new Uint8Array(2 * 3 * 3).map((_, i) => i * 10);
    const at = (row: number, col: number, c: number) => raw[(row * 3 + col) * 3 + c] / 255;
    const cases: Array<[number, number, number, (i: number, j: number) => [number, number]]> = [
      [1, 2, 3, (i, j) => [i, j]],
      [3, 2, 3, (i, j) => [1 - i, 2 - j]], // 180 degrees
      [6, 3, 2, (i, j) => [1 - j, i]], // 90 degrees clockwise
      [8, 3, 2, (i, j) => [j, 2 - i]], // 90 degrees counter-clockwise
    ];
    for (const [orientation, height, width, source] of cases) {
      const file = path.join(dir, `orient${orientation}.png`);
      await sharp(raw, { raw: { width: 3, height: 2, channels: 3 } }).png().withMetadata({ orientation }).toFile(file);
      const { rgb, info } = await decodeImageFile(file);
      expect(info.orientation).toBe(orientation);
      expect([rgb.height, rgb.width]).toEqual([height, width]);
      for (let i = 0; i < height; i++)
        for (let j = 0; j < width; j++)
          for (let c = 0; c < 3; c++) {
            const [si, sj] = source(i, j);
            expect(rgb.data[(c * height + i) * width + j]).toBeCloseTo(at(si, sj, c), 7);
          }
    }
  });

  test('embedded ICC profiles are ignored: the stored values come back', async () => {
    // A plain PNG with the iCCP chunk of a Display P3 PNG inserted after IHDR.
    const raw = new Uint8Array(4 * 4 * 3).map((_, i) => (i * 37) % 256);
    const plain = await sharp(raw, { raw: { width: 4, height: 4, channels: 3 } }).png().toBuffer();
    const p3 = await sharp(raw, { raw: { width: 4, height: 4, channels: 3 } }).withIccProfile('p3').png().toBuffer();
    const chunks = (buf: Buffer) => {
      const out: Array<{ type: string; bytes: Buffer }> = [];
      for (let o = 8; o < buf.length; ) {
        const len = buf.readUInt32BE(o);
        out.push({ type: buf.toString('ascii', o + 4, o + 8), bytes: buf.subarray(o, o + 12 + len) });
        o += 12 + len;
      }
      return out;
    };
    const iccp = chunks(p3).find((c) => c.type === 'iCCP')!;
    const parts: Buffer[] = [plain.subarray(0, 8)];
    for (const c of chunks(plain)) parts.push(c.type === 'IHDR' ? Buffer.concat([c.bytes, iccp.bytes]) : c.bytes);
    const file = path.join(dir, 'icc.png');
    fs.writeFileSync(file, Buffer.concat(parts));
    expect((await sharp(file).metadata()).icc).toBeDefined();
    const { rgb } = await decodeImageFile(file);
    for (let p = 0; p < 16; p++) for (let c = 0; c < 3; c++) expect(Math.round(rgb.data[c * 16 + p] * 255)).toBe(raw[p * 3 + c]);
  });

  test('readImage gives (1,3,H,W) and (1,1,H,W) tensors; writeImage takes tensors', async () => {
    const image = levelImage(3, 6, 9, 255, 11);
    const alpha = levelImage(1, 6, 9, 255, 12);
    const file = path.join(dir, 'tensor.png');
    await writeImage(file, image, { alpha });
    const read = await readImage(file);
    expect(read.image.shape).toEqual([1, 3, 6, 9]);
    expect(read.alpha!.shape).toEqual([1, 1, 6, 9]);
    expectExact(read.image.toFloat32Array(), image.data, 'rgb');
    const again = path.join(dir, 'tensor-again.tif');
    await writeImage(again, read.image, { alpha: read.alpha });
    const back = await readImage(again);
    expectExact(back.image.toFloat32Array(), image.data, 'rewritten rgb');
    expectExact(back.alpha!.toFloat32Array(), alpha.data, 'rewritten alpha');
    tidy(() => [read, back].forEach((r) => (r.image.dispose(), r.alpha?.dispose())));
  });

  test('writing rounds to the nearest level and clamps', async () => {
    const image = hostImage(1, 1, 4);
    image.data.set([2.4 / 255, 2.6 / 255, -0.2, 1.7]);
    const file = path.join(dir, 'round.png');
    await writeImage(file, image);
    const { rgb } = await decodeImageFile(file);
    expect(Array.from(rgb.data.subarray(0, 4)).map((v) => Math.round(v * 255))).toEqual([2, 3, 0, 255]);
  });

  test('ImageCanvas, filled tile by tile, writes the file writeImage writes for the whole image; writes leave no temporary files', async () => {
    const [h, w] = [10, 14];
    const rgb = hostImage(3, h, w);
    rgb.data.set(Float32Array.from(randomArray(rgb.data.length, 31, -0.1, 1.1)));
    const alpha = hostImage(1, h, w);
    alpha.data.set(Float32Array.from(randomArray(alpha.data.length, 32, 0, 1)));
    for (const bitDepth of [8, 16] as const) {
      const canvas = new ImageCanvas(w, h, 4, bitDepth);
      for (const [top, left, th, tw] of [[0, 0, 6, 8], [0, 8, 6, 6], [6, 0, 4, 14]]) {
        const region = (img: HostImage) => {
          const out = hostImage(img.channels, th, tw);
          for (let c = 0; c < img.channels; c++) for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) out.data[(c * th + y) * tw + x] = img.data[(c * h + top + y) * w + left + x];
          return out;
        };
        canvas.put(region(rgb), top, left);
        canvas.put(region(alpha), top, left, 3);
      }
      await canvas.write(path.join(dir, `canvas${bitDepth}.png`));
      await writeImage(path.join(dir, `whole${bitDepth}.png`), rgb, { alpha, bitDepth });
      const [a, b] = await Promise.all([`canvas${bitDepth}.png`, `whole${bitDepth}.png`].map((f) => sharp(path.join(dir, f)).raw({ depth: bitDepth === 16 ? 'ushort' : 'uchar' }).toBuffer()));
      expect(a.equals(b)).toBe(true);
      expect(canvas.nonFinite).toBe(0);
    }
    const holed = new ImageCanvas(2, 1, 3, 8);
    holed.put({ channels: 3, height: 1, width: 2, data: Float32Array.from([NaN, 0, 1, 1, Infinity, 0]) }, 0, 0);
    expect(holed.nonFinite).toBe(2);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('roundHalfEven and quantizeValue follow torch.round', () => {
    expect([-1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual([-2, -0, 0, 2, 2, 4, 2, 3]);
    // Exact halves: 0.5 * 255 = 127.5 -> 128, 0.5 * 5 = 2.5 -> 2, 0.5 * 3 = 1.5 -> 2.
    expect(quantizeValue(0.5)).toBe(128 / 255);
    expect(quantizeValue(0.5, 5)).toBe(2 / 5);
    expect(quantizeValue(0.5, 3)).toBe(2 / 3);
    expect(quantizeValue(-0.1)).toBe(0);
    expect(quantizeValue(1.2)).toBe(1);
  });

  test('corrupt, truncated, unsupported and missing files give errors naming the file', async () => {
    const good = await encodeImage(levelImage(3, 16, 16, 255, 5), 'png');
    const truncated = path.join(dir, 'truncated.png');
    fs.writeFileSync(truncated, good.subarray(0, good.length - 40));
    const jpeg = await encodeImage(levelImage(3, 16, 16, 255, 5), 'jpeg');
    const truncatedJpeg = path.join(dir, 'truncated.jpg');
    fs.writeFileSync(truncatedJpeg, jpeg.subarray(0, jpeg.length - 40));
    const garbage = path.join(dir, 'garbage.png');
    fs.writeFileSync(garbage, Buffer.from(randomArray(300, 9, 0, 1).map((v) => Math.floor(v * 256))));
    const gif = path.join(dir, 'image.gif');
    await sharp(Buffer.alloc(4 * 4 * 3, 128), { raw: { width: 4, height: 4, channels: 3 } }).gif().toFile(gif);
    const missing = path.join(dir, 'missing.png');
    for (const file of [truncated, truncatedJpeg, garbage, missing]) await expect(decodeImageFile(file)).rejects.toThrow(file);
    await expect(readImage(gif)).rejects.toThrow(/image\.gif: unsupported image format 'gif'/);
    await expect(writeImage(path.join(dir, 'x.bmp'), levelImage(3, 2, 2, 255, 1))).rejects.toThrow(/x\.bmp: unknown extension/);
    await expect(writeImage(path.join(dir, 'x.jpg'), levelImage(3, 2, 2, 255, 1), { bitDepth: 16 })).rejects.toThrow(/x\.jpg: .*jpeg has no 16-bit mode/);
  });

  test('reads the shared datasets: a grey PNG (Set14 bridge) and an RGB PNG', async () => {
    const bridge = await decodeImageFile(path.join(datasetsDir(), 'Set14', 'HR', 'bridge.png'));
    expect(bridge.info.channels).toBe(1);
    expect([bridge.rgb.width, bridge.rgb.height]).toEqual([512, 512]);
    const plane = 512 * 512;
    expect(bridge.rgb.data.subarray(plane, 2 * plane)).toEqual(bridge.rgb.data.subarray(0, plane));
    const bird = await decodeImageFile(path.join(datasetsDir(), 'Set5', 'HR', 'bird.png'));
    expect([bird.info.channels, bird.rgb.width, bird.rgb.height]).toEqual([3, 288, 288]);
  });
});
