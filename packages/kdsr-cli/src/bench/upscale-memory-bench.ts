// Peak memory of `kdsr upscale` against the output size: each size runs in a fresh process (the
// built bin.js, or KDSR_BIN) whose peak resident set size is read at exit. With tiles, the peak
// should be the process's baseline plus the input, a few tiles and the output's 8-bit samples.
// Run: node dist/bench/upscale-memory-bench.js [--sizes 1,4,16,64] [--tile 256] [--n-feats 8] [--n-blocks 8]
// Prints a Markdown table (machine, model, numbers) for the README.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildInfo, numThreads } from '@kdsr/cuda';
import { kdsrConfig, KdsrStudent, saveWeights } from '@kdsr/core';
import { encoder } from '@kdsr/data';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const sizes = arg('--sizes', '1,4,16,64').split(',').map(Number);
const tile = Number(arg('--tile', '256'));
const nFeats = Number(arg('--n-feats', '8'));
const nBlocks = Number(arg('--n-blocks', '8'));
const bin = process.env.KDSR_BIN ?? path.resolve(__dirname, '..', 'bin.js');
const scale = 4;

/** A smooth test image with texture, PNG-encoded (random noise would make PNG encoding the benchmark). */
async function writeInput(file: string, side: number): Promise<void> {
  const data = new Uint8Array(side * side * 3);
  for (let y = 0, i = 0; y < side; y++) for (let x = 0; x < side; x++) for (let c = 0; c < 3; c++) data[i++] = 128 + 100 * Math.sin((x + 7 * c) / 9) * Math.cos(y / 13);
  await encoder({ samples: data, width: side, height: side, channels: 3 }, 'png', { compressionLevel: 1 }).toFile(file);
}

/** Runs bin.js with a preloaded hook that prints the peak RSS (KiB) at exit. */
function peakRss(args: string[], dir: string): { kib: number; seconds: number } {
  const hook = path.join(dir, 'peak-rss.js');
  fs.writeFileSync(hook, "process.on('exit', () => process.stderr.write(`peak-rss-kib ${process.resourceUsage().maxRSS}\\n`));\n");
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--require', hook, bin, ...args], { cwd: dir, encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const m = /peak-rss-kib (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`kdsr ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return { kib: Number(m[1]), seconds };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdsr-memory-bench-'));
  try {
    const config = kdsrConfig('custom', { nFeats, nBlocks, nResblocks: 1, scale });
    const student = new KdsrStudent(config, { seed: 1 });
    const model = path.join(dir, 'student.safetensors');
    saveWeights(model, student.stateDict(), { role: 'student', preset: 'custom', config, stage: 2, step: 0 });
    student.dispose();
    const baseline = peakRss(['info'], dir);
    const rows: string[] = [];
    for (const megapixels of sizes) {
      const side = Math.round(Math.sqrt(megapixels * 2 ** 20) / scale);
      const input = path.join(dir, `in${megapixels}.png`);
      await writeInput(input, side);
      const out = path.join(dir, `out${megapixels}.png`);
      const { kib, seconds } = peakRss(['upscale', input, '--model', model, '--out', out, '--tile', String(tile)], dir);
      const outputMiB = (3 * (scale * side) ** 2) / 2 ** 20;
      rows.push(`| ${megapixels} | ${side}x${side} | ${scale * side}x${scale * side} | ${outputMiB.toFixed(0)} | ${(kib / 1024).toFixed(0)} | ${seconds.toFixed(1)} |`);
      fs.rmSync(out, { force: true });
      process.stderr.write(rows[rows.length - 1] + '\n');
    }
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    process.stdout.write(
      [
        `Machine: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; engine ${buildInfo().version}, oneDNN ${buildInfo().onednn ?? 'none'}, ${numThreads()} threads; Node ${process.version}.`,
        `Model: student n_feats ${nFeats}, n_blocks ${nBlocks}, n_resblocks 1, x${scale}; --tile ${tile}. Baseline (kdsr info): ${(baseline.kib / 1024).toFixed(0)} MiB.`,
        '',
        '| output MP | input | output | output 8-bit RGB (MiB) | peak RSS (MiB) | seconds |',
        '| --- | --- | --- | --- | --- | --- |',
        ...rows,
      ].join('\n') + '\n',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
});
