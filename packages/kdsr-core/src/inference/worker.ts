// The worker-thread side of upscaleInWorker: loads the checkpoint, upscales and reports progress
// (an abort terminates the thread).
import { parentPort, workerData } from 'worker_threads';
import { Tensor } from '@kdsr/cuda';
import { loadKdsrModel } from '../checkpoint/convert';
import { KdsrStudent } from '../models/kdsr';
import { upscale } from './upscale';
import type { WorkerRequest, WorkerResponse } from './upscale-async';

function post(message: WorkerResponse, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}

function run(request: WorkerRequest): void {
  const { model } = loadKdsrModel(request.checkpoint, { device: request.device });
  try {
    if (!(model instanceof KdsrStudent)) throw new Error(`${request.checkpoint}: a teacher checkpoint cannot upscale on its own (it needs the HR image); use a student checkpoint`);
    const input = Tensor.fromArray(request.data, [1, 3, request.height, request.width], { device: request.device });
    const output = upscale(model, input, {
      tile: request.tile,
      overlap: request.overlap,
      selfEnsemble: request.selfEnsemble,
      onProgress: (done, total) => post({ type: 'progress', done, total }),
    });
    const data = output.toFloat32Array();
    input.dispose();
    output.dispose();
    post({ type: 'result', data, height: output.shape[2], width: output.shape[3] }, [data.buffer as ArrayBuffer]);
  } finally {
    model.dispose();
  }
}

try {
  run(workerData as WorkerRequest);
} catch (error) {
  post({ type: 'error', message: (error as Error).message });
}
