// The addon is context-aware: it loads in worker threads beside the main thread, each with its own
// NativeTensor class, sharing the process-wide kernels and memory statistics.
import * as path from 'path';
import * as v8 from 'v8';
import * as vm from 'vm';
import { Worker } from 'worker_threads';
import { leakyRelu, memory, Tensor, tidy } from '../src/ts';

const addon = path.resolve(__dirname, '..', 'build', 'Release', 'kdsr_native.node');

function runInWorker(): Promise<number[]> {
  const source = `
    const { parentPort, workerData } = require('worker_threads');
    const b = require(workerData.addon);
    const x = b.fromArray(new Float32Array([1, -2, 3, -4]), [4], 'cpu');
    const [y] = b.run('leaky_relu', [x], { negative_slope: 0.5 });
    const values = Array.from(y.read());
    x.dispose(); y.dispose();
    parentPort.postMessage(values);`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData: { addon } });
    let values: number[] = [];
    worker.once('message', (v: number[]) => (values = v));
    worker.once('error', reject);
    worker.once('exit', () => resolve(values));
  });
}

// The memory statistics are process-wide, and earlier test files in this process may have left
// tensors to the garbage collector: collect them first (and again at the end), so that a collection
// in the middle cannot change the count this test compares.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('worker threads', () => {
  test('two workers and the main thread run kernels at the same time', async () => {
    await collectGarbage();
    const before = memory('cpu').liveBuffers;
    const main = tidy(() => Array.from(leakyRelu(Tensor.fromArray([5, -6], [2]), 0.5).toArray()));
    const results = await Promise.all([runInWorker(), runInWorker()]);
    expect(main).toEqual([5, -3]);
    for (const r of results) expect(r).toEqual([1, -1, 3, -2]);
    await collectGarbage();
    expect(memory('cpu').liveBuffers).toBe(before);
  });
});
