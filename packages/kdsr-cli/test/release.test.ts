// Releasing and judging a model with the real binary: `kdsr export` (raw or EMA weights, float16,
// metadata) and `kdsr eval --report` (a self-contained HTML page whose tables agree with --json and
// whose embedded crops are real PNGs of the right sizes).
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { floatToHalf, halfToFloat, loadSafetensors, readSafetensorsHeader } from '@kdsr/cuda';
import { readCheckpointInfo } from '@kdsr/core';
import { kdsr, kdsrOk, scratchDir, writeTestPng } from './helpers';

const TINY = ['--n-feats', '8', '--n-blocks', '2', '--n-resblocks', '1', '--batch', '2', '--patch', '12', '--workers', '1', '--seed', '3'];

describe('kdsr export and eval --report', () => {
  let dir: string;
  let cleanup: () => void;
  const at = (...parts: string[]) => path.join(dir, ...parts);

  beforeAll(async () => {
    ({ dir, cleanup } = scratchDir());
    for (let i = 0; i < 3; i++) await writeTestPng(at('hr', `im${i}.png`), 80 + 8 * i, 64, i + 21);
    kdsrOk(['train', '--stage', '1', '--data', 'hr', '--out', 'run', ...TINY, '--steps', '3', '--save-every', '3'], dir);
    kdsrOk(['train', '--stage', '2', '--data', 'hr', '--out', 'run', '--batch', '2', '--patch', '12', '--workers', '1', '--steps', '3', '--save-every', '3', '--ema', '0.5'], dir);
  });
  afterAll(() => cleanup());

  test('export writes float16 weights (EMA on request) with the metadata given', () => {
    fs.writeFileSync(at('training.json'), JSON.stringify({ data: 'hr', updates: 3 }));
    const out = kdsrOk(['export', 'run/student.safetensors', 'ema16.safetensors', '--ema', '--meta', 'description=a test model', '--meta', 'training=@training.json'], dir);
    expect(out).toMatch(/ema16\.safetensors: student x4 from update 3 \(EMA\), float16, \d+\.\d\d MB/);
    const { entries, metadata } = readSafetensorsHeader(at('ema16.safetensors'));
    expect(new Set(Object.values(entries).map((e) => e.dtype))).toEqual(new Set(['F16']));
    expect(metadata).toMatchObject({ description: 'a test model', training: '{"data":"hr","updates":3}', role: 'student', ema: 'true', step: '3' });
    expect(readCheckpointInfo(at('ema16.safetensors'))).toMatchObject({ role: 'student', ema: true, config: { nFeats: 8, nBlocks: 2, nResblocks: 1, scale: 4 } });

    // The EMA weights of the training state, rounded to float16; weights that are not averaged come from the checkpoint.
    const state = loadSafetensors(at('run', 'student.train.safetensors')).tensors;
    const raw = loadSafetensors(at('run', 'student.safetensors')).tensors;
    const exported = loadSafetensors(at('ema16.safetensors')).tensors;
    expect([...exported.keys()].sort()).toEqual([...raw.keys()].sort());
    let averaged = 0;
    for (const [key, t] of exported) {
      const source = state.get(`ema.${key}`) ?? raw.get(key)!;
      if (state.has(`ema.${key}`)) averaged++;
      const expected = [...source.toArray()].map((v) => halfToFloat(floatToHalf(v)));
      expect({ key, same: [...t.toArray()].every((v, i) => v === expected[i]) }).toEqual({ key, same: true });
    }
    expect(averaged).toBeGreaterThan(0);
    const rawWeight = raw.get('G.head.0.weight')!.toArray();
    expect([...exported.get('G.head.0.weight')!.toArray()].some((v, i) => v !== halfToFloat(floatToHalf(rawWeight[i])))).toBe(true);

    // float32 and raw on request; half the size in float16.
    kdsrOk(['export', 'run/student.safetensors', 'raw32.safetensors', '--float32'], dir);
    expect(new Set(Object.values(readSafetensorsHeader(at('raw32.safetensors')).entries).map((e) => e.dtype))).toEqual(new Set(['F32']));
    expect(fs.statSync(at('ema16.safetensors')).size).toBeLessThan(0.6 * fs.statSync(at('raw32.safetensors')).size);
    // The teacher's run had no EMA.
    const refused = kdsr(['export', 'run/teacher.safetensors', 'x.safetensors', '--ema'], dir);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/teacher\.train\.safetensors holds no EMA weights: that run was trained without --ema/);
    // An exported model upscales.
    kdsrOk(['upscale', 'hr/im0.png', '--model', 'ema16.safetensors', '--out', 'up.png'], dir);
  });

  test('eval --report: tables agree with --json; each image shows LR, bicubic, SR and HR crops', async () => {
    const args = ['eval', '--model', 'run/student.safetensors', '--hr', 'hr', '--setting', 'iso:1.8', '--setting', 'iso:2.6', '--setting', 'iso:3.2'];
    const json = JSON.parse(kdsrOk([...args, '--json'], dir));
    const printed = kdsrOk([...args, '--report', 'report.html'], dir);
    expect(printed).toContain('report: report.html');
    const html = fs.readFileSync(at('report.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    // No external resources: every src is a data URI.
    expect([...html.matchAll(/\ssrc="([^"]*)"/g)].every((m) => m[1].startsWith('data:image/png;base64,'))).toBe(true);
    expect(html).not.toMatch(/<link |<script /);

    const rows = [...html.matchAll(/<tr[^>]*><th>([^<]+)<\/th>((?:<td>[^<]*<\/td>)+)<\/tr>/g)].map((m) => ({ name: m[1], cells: [...m[2].matchAll(/<td>([^<]*)<\/td>/g)].map((c) => Number(c[1])) }));
    expect(rows.map((r) => r.name)).toEqual(['iso_x4_s1.8_n0', 'iso_x4_s2.6_n0', 'iso_x4_s3.2_n0', 'mean']);
    const means = [...json.settings.map((s: { mean: object; bicubic: object }) => [s.mean, s.bicubic]), [json.mean, json.bicubic]] as Array<Array<{ psnr: number; ssim: number }>>;
    rows.forEach((row, i) => {
      expect(row.cells[0]).toBeCloseTo(means[i][0].psnr, 2);
      expect(row.cells[1]).toBeCloseTo(means[i][0].ssim, 4);
      expect(row.cells[4]).toBeCloseTo(means[i][1].psnr, 2);
      expect(row.cells[5]).toBeCloseTo(means[i][1].ssim, 4);
    });

    // Images of the middle setting (σ 2.6): one section per image, four crops each.
    const sections = [...html.matchAll(/<section class="image" data-name="([^"]+)">([\s\S]*?)<\/section>/g)];
    expect(sections.map((s) => s[1])).toEqual(['im0.png', 'im1.png', 'im2.png']);
    const shown = json.settings[1].images as Array<{ name: string; psnr: number; bicubic: { psnr: number } }>;
    for (const [i, section] of sections.entries()) {
      const figures = [...section[2].matchAll(/<figure class="(\w+)"><img src="data:image\/png;base64,([^"]+)"[^>]*><figcaption>([^<]*)<\/figcaption>/g)];
      expect(figures.map((f) => f[1])).toEqual(['lr', 'bicubic', 'sr', 'hr']);
      const sizes = await Promise.all(figures.map(async (f) => (await sharp(Buffer.from(f[2], 'base64')).metadata()).width));
      expect(sizes).toEqual([16, 64, 64, 64]); // crops of the 64-pixel-high images; the LR crop is 4x smaller
      expect(figures[2][3]).toContain(`SR: ${shown[i].psnr.toFixed(2)} dB`);
      expect(figures[1][3]).toContain(`bicubic: ${shown[i].bicubic.psnr.toFixed(2)} dB`);
    }
  });
});
