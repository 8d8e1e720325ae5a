// upscale() on a worker thread, so that a server's event loop stays responsive: the worker loads
// the checkpoint itself and reports progress per tile; an AbortSignal terminates it at once (not
// only between tiles, which can be minutes apart with large tiles).
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { resolveModel } from '../checkpoint/bundled';

export interface WorkerRequest {
  checkpoint: string;
  device: string;
  data: Float32Array;
  height: number;
  width: number;
  tile?: number;
  overlap?: number;
  selfEnsemble?: boolean;
}

export type WorkerResponse =
  | { type: 'progress'; done: number; total: number }
  | { type: 'result'; data: Float32Array; height: number; width: number }
  | { type: 'error'; message: string };

export interface AsyncUpscaleOptions {
  device?: string;
  tile?: number;
  overlap?: number;
  selfEnsemble?: boolean;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** An RGB image on the host: (3, H, W) planes in [0, 1]. */
export interface RgbImage {
  data: Float32Array;
  height: number;
  width: number;
}

function workerScript(): string {
  const compiled = path.join(__dirname, 'worker.js');
  if (fs.existsSync(compiled)) return compiled;
  // Running from the TypeScript sources (tests): use the build in dist/.
  const built = path.resolve(__dirname, '..', '..', 'dist', 'inference', 'worker.js');
  if (fs.existsSync(built)) return built;
  throw new Error(`upscaleInWorker: worker script not found (${compiled}); build @kdsr/core first`);
}

/**
 * Upscales image with the student network in `checkpoint` (kdsr safetensors, .pth, or a bundled
 * model's name; undefined: the bundled default model) on a worker thread.
 */
export function upscaleInWorker(checkpoint: string | undefined, image: RgbImage, options: AsyncUpscaleOptions = {}): Promise<RgbImage> {
  if (image.data.length !== 3 * image.height * image.width) return Promise.reject(new Error(`upscaleInWorker: ${image.data.length} values for a 3x${image.height}x${image.width} image`));
  const failure = new Error('upscaleInWorker'); // created here so that the stack shows the caller
  const request: WorkerRequest = {
    checkpoint: path.resolve(resolveModel(checkpoint)),
    device: options.device ?? 'cpu',
    data: image.data,
    height: image.height,
    width: image.width,
    tile: options.tile,
    overlap: options.overlap,
    selfEnsemble: options.selfEnsemble,
  };
  return new Promise<RgbImage>((resolve, reject) => {
    if (options.signal?.aborted) return reject(options.signal.reason);
    const worker = new Worker(workerScript(), { workerData: request });
    let settled = false;
    const onAbort = () =>
      finish(() => {
        void worker.terminate();
        reject(options.signal!.reason);
      });
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    worker.on('message', (message: WorkerResponse) => {
      if (message.type === 'progress') options.onProgress?.(message.done, message.total);
      else if (message.type === 'result') finish(() => resolve({ data: message.data, height: message.height, width: message.width }));
      else
        finish(() => {
          failure.message = message.message;
          reject(failure);
        });
    });
    worker.on('error', (error) => finish(() => reject(error)));
    worker.on('exit', (code) => finish(() => reject(new Error(`upscaleInWorker: the worker exited with code ${code} before answering`))));
  });
}
