// upscaleInWorker: the worker's result equals in-process upscale(), progress arrives, an
// AbortSignal terminates it (even within one whole-image tile), and a teacher checkpoint is refused with a clear message.
// (The worker runs the compiled dist/ build: `npx tsc -b` first, as nx's test target does.)
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Tensor } from '@kdsr/cuda';
import { importTorchCheckpoint, loadKdsrModel } from '../src/checkpoint/convert';
import { upscale } from '../src/inference/upscale';
import { upscaleInWorker } from '../src/inference/upscale-async';
import { KdsrStudent } from '../src/models/kdsr';
import { fixturePath, randomArray } from './helpers';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdsr-worker-'));
  importTorchCheckpoint(fixturePath('student_tiny.pth'), path.join(dir, 'student.safetensors'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const image = { data: Float32Array.from(randomArray(3 * 10 * 9, 12, 0, 1)), height: 10, width: 9 };

test('the worker gives exactly the in-process result and reports progress per tile', async () => {
  const progress: number[] = [];
  const out = await upscaleInWorker(path.join(dir, 'student.safetensors'), image, { tile: 5, overlap: 2, onProgress: (done) => progress.push(done) });
  expect([out.height, out.width]).toEqual([40, 36]);
  expect(progress).toEqual([1, 2, 3, 4]);
  const { model } = loadKdsrModel(path.join(dir, 'student.safetensors'));
  const local = upscale(model as KdsrStudent, Tensor.fromArray(image.data, [1, 3, 10, 9]), { tile: 5, overlap: 2 });
  expect(Buffer.from(out.data.buffer).equals(Buffer.from(local.toFloat32Array().buffer))).toBe(true);
  model.dispose();
});

test('an AbortSignal terminates the worker at once, even within a whole-image tile', async () => {
  // One tile of 300x300 LR pixels: the worker would finish it (and answer with the result) unless terminated.
  const large = { data: Float32Array.from(randomArray(3 * 300 * 300, 13, 0, 1)), height: 300, width: 300 };
  const controller = new AbortController();
  const progress: number[] = [];
  const run = upscaleInWorker(path.join(dir, 'student.safetensors'), large, { tile: Infinity, onProgress: (done) => progress.push(done), signal: controller.signal });
  setTimeout(() => controller.abort(new Error('cancelled')), 100);
  await expect(run).rejects.toThrow('cancelled');
  expect(progress).toEqual([]);
});

test('an AbortSignal stops the worker between tiles', async () => {
  const controller = new AbortController();
  const progress: number[] = [];
  const run = upscaleInWorker(path.join(dir, 'student.safetensors'), image, {
    tile: 2,
    selfEnsemble: true, // 8 passes of 25 tiles: far more work than the abort needs to arrive
    onProgress: (done) => {
      progress.push(done);
      controller.abort(new Error('cancelled'));
    },
    signal: controller.signal,
  });
  await expect(run).rejects.toThrow('cancelled');
  expect(progress.length).toBeGreaterThan(0);
  expect(progress.length).toBeLessThan(200);
});

test('a teacher checkpoint is refused: it needs the HR image', async () => {
  await expect(upscaleInWorker(fixturePath('teacher_tiny.pth'), image)).rejects.toThrow('a teacher checkpoint cannot upscale on its own');
});
