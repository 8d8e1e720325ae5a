import * as fs from 'fs';
import * as path from 'path';
import {
  HostImage,
  hostImage,
  lumaBasicsr,
  psnrBasicsr,
  psnrKdsr,
  psnrKdsrRgb,
  quantizeImage,
  rgbToYCbCr,
  roundHalfEven,
  ssimBasicsr,
  ssimKdsr,
  ssimWindow1d,
  tensorToImage,
} from '../src';
import { expectArrayClose, fixtureArray, fixtureMeta, fixturesDir, fixtureTensor } from './helpers';

interface MetricsPair {
  name: string;
  scale: number;
  psnr_official_benchmark: number;
  psnr_official_rgb: number;
  psnr_y_basicsr: number;
  ssim_official: number;
  ssim_y_basicsr: number;
}

const pairs = (JSON.parse(fs.readFileSync(path.join(fixturesDir(), 'metrics.json'), 'utf8')) as { pairs: MetricsPair[] }).pairs;
const image = (file: string, name: string): HostImage => tensorToImage(fixtureTensor(file, name));

describe('metrics.safetensors: both conventions', () => {
  test.each(pairs.map((p) => [p.name, p] as const))('%s', (name, p) => {
    const sr = image('metrics.safetensors', `${name}.sr`);
    const hr = image('metrics.safetensors', `${name}.hr`);
    // Conventions that evaluate 8-bit images get quantised inputs; the metric functions never round.
    const srQ = quantizeImage(sr);
    const hrQ = quantizeImage(hr);
    expect(Math.abs(psnrKdsr(sr, hr, p.scale) - p.psnr_official_benchmark)).toBeLessThan(1e-4);
    expect(Math.abs(psnrKdsrRgb(sr, hr, p.scale) - p.psnr_official_rgb)).toBeLessThan(1e-4);
    expect(Math.abs(ssimKdsr(srQ, hrQ, p.scale) - p.ssim_official)).toBeLessThan(1e-5);
    expect(Math.abs(psnrBasicsr(srQ, hrQ, p.scale) - p.psnr_y_basicsr)).toBeLessThan(1e-4);
    expect(Math.abs(ssimBasicsr(srQ, hrQ, p.scale) - p.ssim_y_basicsr)).toBeLessThan(1e-5);
  });

  test('p2 (SR off the 8-bit grid) separates rounding from not rounding', () => {
    const p = pairs.find((q) => q.name === 'p2')!;
    const sr = image('metrics.safetensors', 'p2.sr');
    const hr = image('metrics.safetensors', 'p2.hr');
    expect(Math.abs(psnrBasicsr(sr, hr, p.scale) - p.psnr_y_basicsr)).toBeGreaterThan(1e-3);
  });
});

describe('realesrgan.safetensors: BasicSR Y-channel metrics', () => {
  const F = 'realesrgan.safetensors';
  const values = fixtureMeta<Record<string, string>>(F, 'values');
  test.each(['p0', 'p1'])('%s', (p) => {
    const a = image(F, `metrics.${p}.img`);
    const b = image(F, `metrics.${p}.img2`);
    expectArrayClose(lumaBasicsr(a, 4), fixtureArray(F, `metrics.${p}.y_img`), 1e-5, 'y_img');
    expectArrayClose(lumaBasicsr(b, 4), fixtureArray(F, `metrics.${p}.y_img2`), 1e-5, 'y_img2');
    expect(Math.abs(psnrBasicsr(a, b, 4) - Number(values[`metrics.${p}.psnr`]))).toBeLessThan(1e-4);
    expect(Math.abs(ssimBasicsr(a, b, 4) - Number(values[`metrics.${p}.ssim`]))).toBeLessThan(1e-5);
  });

  test('ycbcr: Y, YCbCr and the uint8 Y', () => {
    const input = image(F, 'ycbcr.input');
    const ycbcr = rgbToYCbCr(input);
    expectArrayClose(ycbcr.data, fixtureArray(F, 'ycbcr.ycbcr'), 1e-5, 'ycbcr');
    const y = lumaBasicsr(input);
    expectArrayClose(y.map((v) => v / 255), fixtureArray(F, 'ycbcr.y'), 1e-5, 'y');
    expect(Array.from(y.map(roundHalfEven))).toEqual(Array.from(fixtureArray(F, 'ycbcr.y_uint8')));
  });
});

describe('spec test vectors', () => {
  const flat = (r: number, g: number, b: number, h = 24, w = 24): HostImage => {
    const im = hostImage(3, h, w);
    im.data.fill(r / 255, 0, h * w);
    im.data.fill(g / 255, h * w, 2 * h * w);
    im.data.fill(b / 255, 2 * h * w);
    return im;
  };

  test('Y of white, black and red (spec 21)', () => {
    expect(lumaBasicsr(flat(255, 255, 255, 1, 1))[0]).toBeCloseTo(235, 10);
    expect(lumaBasicsr(flat(0, 0, 0, 1, 1))[0]).toBeCloseTo(16, 10);
    expect(lumaBasicsr(flat(255, 0, 0, 1, 1))[0]).toBeCloseTo(81.481, 10);
  });

  test('identical images: PSNR +Infinity, SSIM 1 (spec 22)', () => {
    const a = image('metrics.safetensors', 'p0.hr');
    expect(psnrBasicsr(a, a, 4)).toBe(Infinity);
    expect(psnrKdsr(a, a, 4)).toBe(Infinity);
    expect(ssimBasicsr(a, a, 4)).toBeCloseTo(1, 12);
    expect(ssimKdsr(a, a, 4)).toBeCloseTo(1, 12);
  });

  test('+1 grey level everywhere: PSNR 49.4527 dB (spec 23)', () => {
    const a = flat(100, 120, 140);
    const b = flat(101, 121, 141);
    expect(psnrBasicsr(b, a, 4)).toBeCloseTo(49.4527, 4);
    expect(psnrKdsr(b, a, 4)).toBeCloseTo(49.4527, 3);
  });

  test('SSIM window taps (spec 24)', () => {
    const taps = ssimWindow1d();
    const expected = [0.0010283801, 0.0075987581, 0.0360007721, 0.1093606895, 0.2130055377, 0.2660117249];
    expected.forEach((v, i) => {
      expect(taps[i]).toBeCloseTo(v, 9);
      expect(taps[10 - i]).toBeCloseTo(v, 9);
    });
  });

  test('errors for mismatched sizes and borders that leave too little', () => {
    expect(() => psnrBasicsr(flat(1, 2, 3, 20, 20), flat(1, 2, 3, 20, 21), 4)).toThrow(/sizes differ/);
    expect(() => ssimBasicsr(flat(1, 2, 3, 20, 20), flat(1, 2, 3, 20, 20), 5)).toThrow(/too small/);
  });
});
