// The training-curve picture `kdsr train` keeps beside its checkpoints: the loss (log scale, raw
// and smoothed), the validation PSNR and the learning rate (log scale) against updates, drawn as a
// self-contained SVG from the run's log, so it covers every session of a resumed run.
import * as fs from 'fs';
import { writeFileAtomicSync } from '@kdsr/cuda';

export interface CurvePoint {
  step: number;
  value: number;
}

export interface TrainingCurve {
  loss: CurvePoint[];
  psnr: CurvePoint[];
  /** The learning rate of each logged update (the generator's in stage 3). */
  lr: CurvePoint[];
  /** e.g. the validation setting, shown in the PSNR panel's title. */
  psnrLabel: string;
}

/**
 * The loss, validation and learning-rate points of a `stage<k>.log.jsonl`. A run killed after its
 * last checkpoint logged updates that its resumed run makes again: a `resume` entry at update n
 * drops what was logged above n before it, and the later entry of a step wins.
 */
export function readTrainingLog(logFile: string): TrainingCurve {
  const loss = new Map<number, number>();
  const psnr = new Map<number, number>();
  const lr = new Map<number, number>();
  let psnrLabel = '';
  for (const line of fs.readFileSync(logFile, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let entry: { type?: string; step?: number; losses?: { total?: number }; lr?: number; psnr?: number; setting?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue; // a line cut short by a kill
    }
    if (typeof entry.step !== 'number') continue;
    if (entry.type === 'resume') {
      for (const points of [loss, psnr, lr]) for (const step of [...points.keys()]) if (step > entry.step) points.delete(step);
      continue;
    }
    if (entry.type === 'progress') {
      if (typeof entry.losses?.total === 'number') loss.set(entry.step, entry.losses.total);
      if (typeof entry.lr === 'number') lr.set(entry.step, entry.lr);
    }
    if (entry.type === 'validation' && typeof entry.psnr === 'number') {
      psnr.set(entry.step, entry.psnr);
      psnrLabel = entry.setting ?? psnrLabel;
    }
  }
  const sorted = (m: Map<number, number>) => [...m].map(([step, value]) => ({ step, value })).sort((a, b) => a.step - b.step);
  return { loss: sorted(loss), psnr: sorted(psnr), lr: sorted(lr), psnrLabel };
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Centred moving average over `window` points (the smoothed loss line). */
function movingAverage(points: CurvePoint[], window: number): CurvePoint[] {
  const half = Math.floor(window / 2);
  return points.map((p, i) => {
    const slice = points.slice(Math.max(0, i - half), i + half + 1);
    return { step: p.step, value: slice.reduce((s, q) => s + q.value, 0) / slice.length };
  });
}

const WIDTH = 860;
const PANEL_HEIGHT = 240;
const LR_PANEL_HEIGHT = 150;
const MARGIN = { left: 70, right: 20, top: 34, bottom: 40 };
const fmt = (x: number) => x.toFixed(1);
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Panel {
  top: number;
  height: number;
  title: string;
  /** Value → the axis coordinate (identity, or log10 for the loss). */
  transform: (v: number) => number;
  tickLabel: (v: number) => string;
  ticks: (lo: number, hi: number) => number[];
  series: Array<{ points: CurvePoint[]; stroke: string; width: number; markers?: boolean }>;
}

function drawPanel(panel: Panel, steps: [number, number]): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = panel.height - MARGIN.top - MARGIN.bottom;
  const values = panel.series.flatMap((s) => s.points.map((p) => p.value));
  const out = [`<text x="${MARGIN.left}" y="${panel.top + 20}" font-size="14" font-weight="bold">${escape(panel.title)}</text>`];
  out.push(`<rect x="${MARGIN.left}" y="${panel.top + MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`);
  if (values.length === 0) {
    out.push(`<text x="${MARGIN.left + plotWidth / 2}" y="${panel.top + MARGIN.top + plotHeight / 2}" text-anchor="middle" fill="#777">no points yet</text>`);
    return out.join('\n');
  }
  const ticks = panel.ticks(Math.min(...values), Math.max(...values));
  const [lowest, highest] = [Math.min(...ticks, ...values.map(panel.transform)), Math.max(...ticks, ...values.map(panel.transform))];
  // A little room above and below, so that a line at the extremes is not drawn on the frame.
  const pad = lowest === highest ? 0.5 : 0.04 * (highest - lowest);
  const [lo, hi] = [lowest - pad, highest + pad];
  const x = (step: number) => MARGIN.left + (steps[1] === steps[0] ? plotWidth / 2 : ((step - steps[0]) / (steps[1] - steps[0])) * plotWidth);
  const y = (v: number) => panel.top + MARGIN.top + plotHeight - ((panel.transform(v) - lo) / (hi - lo)) * plotHeight;
  for (const t of ticks) {
    const ty = panel.top + MARGIN.top + plotHeight - ((t - lo) / (hi - lo)) * plotHeight;
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${fmt(ty)}" y2="${fmt(ty)}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${fmt(ty + 4)}" text-anchor="end" font-size="11">${panel.tickLabel(t)}</text>`);
  }
  for (const t of niceTicks(steps[0], steps[1], 8)) {
    out.push(`<text x="${fmt(x(t))}" y="${panel.top + panel.height - MARGIN.bottom + 16}" text-anchor="middle" font-size="11">${t.toLocaleString('en-US')}</text>`);
  }
  for (const s of panel.series) {
    if (s.points.length === 0) continue;
    const coordinates = s.points.map((p) => `${fmt(x(p.step))},${fmt(y(p.value))}`);
    out.push(`<polyline fill="none" stroke="${s.stroke}" stroke-width="${s.width}" points="${coordinates.join(' ')}"/>`);
    if (s.markers) for (const c of coordinates) out.push(`<circle cx="${c.split(',')[0]}" cy="${c.split(',')[1]}" r="2.5" fill="${s.stroke}"/>`);
  }
  return out.join('\n');
}

/** The three-panel SVG (loss, validation PSNR, learning rate, top to bottom) of a training curve. */
export function trainingCurveSvg(curve: TrainingCurve, title: string): string {
  const all = [...curve.loss, ...curve.psnr, ...curve.lr].map((p) => p.step);
  const steps: [number, number] = all.length > 0 ? [0, Math.max(...all)] : [0, 1];
  const smoothed = movingAverage(curve.loss, Math.max(1, Math.round(curve.loss.length / 40)));
  const lossPanel: Panel = {
    top: 30,
    height: PANEL_HEIGHT,
    title: 'training loss (log scale; grey: logged, blue: moving average)',
    transform: Math.log10,
    // Decade-fraction ticks on the log axis, labelled with the loss values.
    ticks: (lo, hi) => niceTicks(Math.log10(lo), Math.log10(hi), 5),
    tickLabel: (t) => (10 ** t).toPrecision(2),
    series: [
      { points: curve.loss, stroke: '#bbb', width: 1 },
      { points: smoothed, stroke: '#1f5fbf', width: 2 },
    ],
  };
  const psnrPanel: Panel = {
    top: 30 + PANEL_HEIGHT,
    height: PANEL_HEIGHT,
    title: `validation PSNR, dB${curve.psnrLabel ? ` (${curve.psnrLabel})` : ''}`,
    transform: (v) => v,
    ticks: (lo, hi) => niceTicks(lo, hi, 5),
    tickLabel: (t) => t.toFixed(2),
    series: [{ points: curve.psnr, stroke: '#c0392b', width: 2, markers: true }],
  };
  const lrPanel: Panel = {
    top: 30 + 2 * PANEL_HEIGHT,
    height: LR_PANEL_HEIGHT,
    title: 'learning rate (log scale)',
    transform: Math.log10,
    ticks: (lo, hi) => niceTicks(Math.log10(lo), Math.log10(hi), 3),
    tickLabel: (t) => (10 ** t).toExponential(1),
    series: [{ points: curve.lr, stroke: '#2e7d32', width: 2 }],
  };
  const height = 30 + 2 * PANEL_HEIGHT + LR_PANEL_HEIGHT + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${MARGIN.left}" y="20" font-size="15">${escape(title)}</text>`,
    drawPanel(lossPanel, steps),
    drawPanel(psnrPanel, steps),
    drawPanel(lrPanel, steps),
    `<text x="${MARGIN.left + (WIDTH - MARGIN.left - MARGIN.right) / 2}" y="${height - 8}" text-anchor="middle" font-size="12">updates</text>`,
    '</svg>',
    '',
  ].join('\n');
}

/** Redraws `svgFile` from `logFile` (atomically: a reader never sees half a picture). */
export function writeTrainingCurve(logFile: string, svgFile: string, title: string): void {
  writeFileAtomicSync(svgFile, trainingCurveSvg(readTrainingLog(logFile), title));
}
