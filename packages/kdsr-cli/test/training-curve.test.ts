// The training-curve picture: the log is read as a resumed run wrote it (repeated steps, a line cut
// by a kill), and the SVG's polylines place every point where its step and value say.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { niceTicks, readTrainingLog, trainingCurveSvg, writeTrainingCurve } from '../src/training-curve';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdsr-curve-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const progress = (step: number, total: number, lr = 2e-4) => JSON.stringify({ type: 'progress', step, losses: { total }, lr });
const validation = (step: number, psnr: number) => JSON.stringify({ type: 'validation', step, psnr, setting: 'iso_x4_s2.6_n0' });

/** The numbers of a polyline's points attribute. */
const points = (polyline: string) => polyline.split(' ').map((p) => p.split(',').map(Number) as [number, number]);

test('reads a resumed run: the later entry of a repeated step wins, a cut line is skipped', () => {
  const log = path.join(dir, 'stage1.log.jsonl');
  const lines = [progress(10, 0.2), progress(20, 0.1), validation(20, 25), progress(30, 0.09), '{"type":"progr', progress(30, 0.05), progress(40, 0.04, 1e-4), validation(40, 26.5)];
  fs.writeFileSync(log, lines.join('\n') + '\n');
  expect(readTrainingLog(log)).toEqual({
    loss: [
      { step: 10, value: 0.2 },
      { step: 20, value: 0.1 },
      { step: 30, value: 0.05 },
      { step: 40, value: 0.04 },
    ],
    psnr: [
      { step: 20, value: 25 },
      { step: 40, value: 26.5 },
    ],
    lr: [
      { step: 10, value: 2e-4 },
      { step: 20, value: 2e-4 },
      { step: 30, value: 2e-4 },
      { step: 40, value: 1e-4 },
    ],
    psnrLabel: 'iso_x4_s2.6_n0',
  });
});

test('a resume entry drops what the interrupted run logged after its last checkpoint', () => {
  const log = path.join(dir, 'resumed.log.jsonl');
  const resume = JSON.stringify({ type: 'resume', step: 20 });
  fs.writeFileSync(log, [progress(10, 0.2), progress(20, 0.1), progress(30, 0.09), validation(30, 25), progress(40, 0.08), resume, progress(30, 0.07)].join('\n') + '\n');
  const curve = readTrainingLog(log);
  expect(curve.loss.map((p) => [p.step, p.value])).toEqual([
    [10, 0.2],
    [20, 0.1],
    [30, 0.07],
  ]);
  expect(curve.psnr).toEqual([]);
  expect(curve.lr.map((p) => p.step)).toEqual([10, 20, 30]);
});

test('the SVG places each point by its step (x) and value (y, log scale for the loss)', () => {
  const loss = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({ step: 100 * i, value: 0.1 / i }));
  const psnr = [
    { step: 400, value: 24 },
    { step: 800, value: 27 },
  ];
  const svg = trainingCurveSvg({ loss, psnr, lr: [], psnrLabel: 'iso' }, 'a run');
  const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]+)"/g)].map((m) => points(m[1]));
  expect(lines).toHaveLength(3); // raw loss, smoothed loss, PSNR
  const [raw, , val] = lines;
  expect(raw).toHaveLength(8);
  // x grows linearly with the step: equal step differences, equal x differences.
  const dx = raw.slice(1).map((p, i) => p[0] - raw[i][0]);
  for (const d of dx) expect(d).toBeCloseTo(dx[0], 0);
  // y grows (downwards) with log(loss): equal ratios of the loss give equal y differences.
  const y = (i: number) => raw[i - 1][1];
  expect(y(2) - y(1)).toBeCloseTo(y(4) - y(2), 0);
  expect(y(8) - y(4)).toBeCloseTo(y(4) - y(2), 0);
  expect(val).toHaveLength(2);
  expect(val[1][1]).toBeLessThan(val[0][1]); // higher PSNR is drawn higher
  expect(val[1][0]).toBeCloseTo(raw[7][0], 1); // same step, same x in both panels
  expect(svg).toContain('iso');
  expect((svg.match(/<circle /g) ?? []).length).toBe(2);
});

test('the learning rate is drawn on a log scale: every halving lowers the line by the same amount', () => {
  const steps = [0, 1000, 1001, 2000, 2001, 3000, 3001, 4000];
  const lr = steps.map((step, i) => ({ step, value: 2e-4 / 2 ** Math.floor(i / 2) })); // halved at 1001, 2001, 3001
  const svg = trainingCurveSvg({ loss: [], psnr: [], lr, psnrLabel: '' }, 'an annealed run');
  expect(svg).toContain('learning rate (log scale)');
  const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]+)"/g)].map((m) => points(m[1]));
  expect(lines).toHaveLength(1);
  const y = lines[0].map((p) => p[1]);
  // Drawn lower as it falls (SVG y grows downwards), by equal steps per halving.
  const drops = [y[2] - y[1], y[4] - y[3], y[6] - y[5]];
  expect(drops[0]).toBeGreaterThan(5);
  for (const d of drops) expect(d).toBeCloseTo(drops[0], 0);
  expect(y[1]).toBeCloseTo(y[0], 5);
  // The first update (lr 2e-4) and the last (2.5e-5) sit at the panel's extremes, inside it.
  expect(Math.max(...y) - Math.min(...y)).toBeCloseTo(3 * drops[0], 0);
});

test('an empty log still gives a picture; writes are atomic', () => {
  const log = path.join(dir, 'empty.log.jsonl');
  fs.writeFileSync(log, '');
  const svg = path.join(dir, 'empty.svg');
  writeTrainingCurve(log, svg, 'nothing yet');
  expect(fs.readFileSync(svg, 'utf8')).toContain('no points yet');
  expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
});

test('nice ticks are round and cover the range', () => {
  expect(niceTicks(0, 1000, 5)).toEqual([0, 200, 400, 600, 800, 1000]);
  expect(niceTicks(22.7, 28.3, 5)).toEqual([24, 26, 28]);
  expect(niceTicks(22.7, 28.3, 10)).toEqual([23, 24, 25, 26, 27, 28]);
  expect(niceTicks(-1.4, -0.8, 5)).toEqual([-1.4, -1.2, -1, -0.8]);
});
