#!/usr/bin/env node
// Releases the default model from the training run in models/training: exports the stage-2 student
// as float16 — its EMA weights where the run kept them and they score higher on Set5 (Gaussian8)
// than the raw ones —, measures it with `kdsr eval` (Set5 and Set14 under Gaussian8, Set14 under
// the anisotropic + noise settings, beside bicubic), and writes
// packages/kdsr-core/models/<name>.safetensors with how it was trained and what it measured in its
// metadata (what `kdsr models` prints). The measured tables are printed as Markdown for the README.
//
//   node tools/release-model.mjs [--run models/training] [--name kdsr-classic-x4]
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fileURLToPath } from 'url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const run = path.resolve(option('--run', path.join(root, 'models', 'training')));
const name = option('--name', 'kdsr-classic-x4');
const datasets = path.resolve(root, '..', 'shared', 'datasets');
const kdsr = (...a) => execFileSync(process.execPath, [path.join(root, 'packages', 'kdsr-cli', 'dist', 'bin.js'), ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

if (!fs.existsSync(path.join(run, 'student.safetensors'))) throw new Error(`${path.join(run, 'student.safetensors')} not found: run stage 2 first`);
/** The JSON header of a safetensors file (tensor names, and the metadata under __metadata__). */
function safetensorsHeader(file) {
  const buffer = fs.readFileSync(file);
  return JSON.parse(buffer.subarray(8, 8 + Number(buffer.readBigUInt64LE(0))).toString('utf8'));
}

/** The update a checkpoint's weights are from. */
const checkpointStep = (file) => Number(safetensorsHeader(file).__metadata__.step);

/**
 * Updates and wall time (gaps over 10 minutes between log lines count as pauses) of one stage, up
 * to its checkpoint: what the log holds beyond it was not kept.
 */
function stageRecord(stage, checkpoint) {
  const log = path.join(run, `stage${stage}.log.jsonl`);
  const runJson = JSON.parse(fs.readFileSync(path.join(run, `stage${stage}.run.json`), 'utf8'));
  const updates = checkpointStep(checkpoint);
  const all = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).flatMap((l) => { try { return [JSON.parse(l)]; } catch { return []; } });
  const saved = all.findLastIndex((e) => e.type === 'checkpoint' && e.step === updates);
  const entries = all.slice(0, saved + 1);
  const times = entries.map((e) => Date.parse(e.time)).filter(Number.isFinite).sort((a, b) => a - b);
  let seconds = 0;
  for (let i = 1; i < times.length; i++) if (times[i] - times[i - 1] < 600_000) seconds += (times[i] - times[i - 1]) / 1000;
  const validation = entries.filter((e) => e.type === 'validation');
  return {
    updates,
    hours: Number((seconds / 3600).toFixed(2)),
    batch: runJson.batch,
    lrPatch: runJson.patch,
    lastValidation: validation.length ? { step: validation.at(-1).step, psnr: Number(validation.at(-1).psnr.toFixed(3)), setting: validation.at(-1).setting } : null,
  };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kdsr-release-'));
// A running training run rewrites its checkpoint: release from one copy of it, taken when the
// weights file and the training state are from the same update.
const student = path.join(tmp, 'student.safetensors');
for (let attempt = 0; ; attempt++) {
  for (const f of ['student.safetensors', 'student.train.safetensors']) fs.copyFileSync(path.join(run, f), path.join(tmp, f));
  if (checkpointStep(student) === checkpointStep(path.join(tmp, 'student.train.safetensors'))) break;
  if (attempt === 10) throw new Error(`${run}: the weights and the training state keep differing; stop the run or try again`);
}
/** Whether the run kept EMA weights ('ema.*' tensors in its training state). */
const runKeptEma = () => Object.keys(safetensorsHeader(path.join(tmp, 'student.train.safetensors'))).some((k) => k.startsWith('ema.'));
const evaluate = (model, hr, setting) => JSON.parse(kdsr('eval', '--model', model, '--hr', hr, '--setting', setting, '--json'));
const set5 = path.join(datasets, 'Set5', 'HR');
// Raw and (where kept) EMA weights, compared on Set5 under Gaussian8.
const candidates = [{ ema: false }, ...(runKeptEma() ? [{ ema: true }] : [])].map(({ ema }) => {
  const file = path.join(tmp, `${ema ? 'ema' : 'raw'}.safetensors`);
  kdsr('export', student, file, ...(ema ? ['--ema'] : []));
  const report = evaluate(file, set5, 'gaussian8');
  const psnr = report.mean.psnr;
  process.stderr.write(`${ema ? 'EMA' : 'raw'} weights: Set5 Gaussian8 ${psnr.toFixed(3)} dB\n`);
  return { ema, file, psnr, report };
});
const chosen = candidates.reduce((best, c) => (c.psnr > best.psnr ? c : best));
const useEma = chosen.ema;
const candidate = chosen.file;

const evaluations = [
  { set: 'Set5', setting: 'gaussian8' },
  { set: 'Set14', setting: 'gaussian8' },
  { set: 'Set14', setting: 'aniso' },
];
const results = [];
const tables = [];
for (const { set, setting } of evaluations) {
  process.stderr.write(`evaluating on ${set}, ${setting}\n`);
  const report = set === 'Set5' && setting === 'gaussian8' ? chosen.report : evaluate(candidate, path.join(datasets, set, 'HR'), setting);
  // Unrounded: `kdsr models` rounds them once, to the same digits as the tables below.
  results.push({ set, setting, psnr: report.mean.psnr, ssim: report.mean.ssim, bicubicPsnr: report.bicubic.psnr, bicubicSsim: report.bicubic.ssim });
  tables.push(
    [
      `${set}, ${setting} (KDSR-classic convention: Y, ${report.scale} pixels shaved; PSNR dB / SSIM)`,
      '',
      '| setting | bicubic | kdsr (bundled) |',
      '|---|---|---|',
      ...report.settings.map((s) => `| ${s.name} | ${s.bicubic.psnr.toFixed(2)} / ${s.bicubic.ssim.toFixed(4)} | ${s.mean.psnr.toFixed(2)} / ${s.mean.ssim.toFixed(4)} |`),
      `| **mean** | **${report.bicubic.psnr.toFixed(2)} / ${report.bicubic.ssim.toFixed(4)}** | **${report.mean.psnr.toFixed(2)} / ${report.mean.ssim.toFixed(4)}** |`,
    ].join('\n'),
  );
}

const stage1 = JSON.parse(fs.readFileSync(path.join(run, 'stage1.run.json'), 'utf8'));
const training = {
  data: 'T91 + BSDS200 + SunHays80 (shared/datasets/train), HR crops',
  degradation: `classic x${stage1.scale}: isotropic Gaussian blur sigma ~ U(0.2, 4.0), KDSR bicubic downsampling, noise ${stage1.noise}`,
  trainedWith: 'kdsr train (stage 1 teacher, L1; stage 2 student, L1 + KD)',
  stage1: stageRecord(1, path.join(run, 'teacher.safetensors')),
  stage2: stageRecord(2, candidate),
  machine: `${os.cpus()[0].model}, ${os.cpus().length} cores (CPU training)`,
  weights: candidates.map((c) => `${c.ema ? 'EMA' : 'raw'} ${c.psnr.toFixed(3)} dB on Set5 Gaussian8`).join(', ') + `: ${useEma ? 'EMA' : 'raw'} released`,
};
const released = path.join(root, 'packages', 'kdsr-core', 'models', `${name}.safetensors`);
fs.mkdirSync(path.dirname(released), { recursive: true });
fs.writeFileSync(path.join(tmp, 'training.json'), JSON.stringify(training));
fs.writeFileSync(path.join(tmp, 'results.json'), JSON.stringify(results));
const description = `KDSR student for blind x${stage1.scale} super-resolution of blurred images (classic isotropic setting), trained on the CPU with kdsr`;
process.stdout.write(
  // The measured file itself, with its record added (float16 re-export is lossless).
  kdsr('export', candidate, released, '--meta', `description=${description}`, '--meta', `training=@${path.join(tmp, 'training.json')}`, '--meta', `results=@${path.join(tmp, 'results.json')}`),
);
fs.rmSync(tmp, { recursive: true, force: true });
process.stdout.write('\n' + tables.join('\n\n') + '\n');
