// Shared test helpers: running the built binary, fixtures beside the repository, synthetic images.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { loadSafetensors, testing } from '@kdsr/cuda';

// The shared fixtures and datasets, and seeded numbers, come from @kdsr/cuda's testing module.
export const { fixturesDir, datasetsDir, randomArray } = testing;

export const bin = path.resolve(__dirname, '..', 'dist', 'bin.js');

/**
 * The environment of a kdsr run with one engine thread. Tiny networks gain nothing from a second
 * thread, and on a busy machine OpenMP's waiting threads cost several times the work itself
 * (measured on the shared 2-core VM: a tiny stage-3 update took 0.13 s of CPU on one thread, 0.9 s
 * on two). Results do not depend on the thread count.
 */
export const ONE_THREAD: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '1' };

export interface KdsrRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/bin.js ...args` in `cwd` and returns its exit status and output. */
export function kdsr(args: readonly string[], cwd: string, options: { timeout?: number; env?: NodeJS.ProcessEnv } = {}): KdsrRun {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: options.timeout, env: options.env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs kdsr and fails the test with its output unless it exits with 0. */
export function kdsrOk(args: readonly string[], cwd: string, options: { env?: NodeJS.ProcessEnv } = {}): string {
  const r = kdsr(args, cwd, options);
  if (r.status !== 0) throw new Error(`kdsr ${args.join(' ')} exited with ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export function scratchDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdsr-cli-test-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** An RGB(A) PNG written by sharp: smooth shapes plus texture, so blur and SR have something to do. */
export async function writeTestPng(file: string, width: number, height: number, seed: number, options: { alpha?: (x: number, y: number) => number; bits16?: boolean } = {}): Promise<void> {
  const channels = options.alpha ? 4 : 3;
  const max = options.bits16 ? 65535 : 255;
  const noise = randomArray(width * height * 3, seed, 0, 1);
  const samples = options.bits16 ? new Uint16Array(width * height * channels) : new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      for (let c = 0; c < 3; c++) {
        const v = 0.5 + 0.3 * Math.sin((x + 2 * c + seed) / 5) * Math.cos((y - c) / 7) + 0.2 * (noise[3 * p + c] - 0.5);
        samples[p * channels + c] = Math.round(Math.min(Math.max(v, 0), 1) * max);
      }
      if (options.alpha) samples[p * channels + 3] = Math.round(options.alpha(x, y) * max);
    }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(samples, { raw: { width, height, channels } })
    .toColourspace(options.bits16 ? 'rgb16' : 'srgb')
    .png()
    .toFile(file);
}

/** The tensors of a safetensors file as raw bytes by name. */
export function tensorBytes(file: string): Map<string, Buffer> {
  const { tensors } = loadSafetensors(file);
  const out = new Map<string, Buffer>();
  for (const [name, t] of tensors) {
    out.set(name, Buffer.from(t.toArray().buffer));
    t.dispose();
  }
  return out;
}
