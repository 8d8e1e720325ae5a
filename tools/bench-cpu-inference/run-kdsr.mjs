// kdsr's side of tools/bench-cpu-inference.mjs, one process per measurement: loads the model, upscales
// the benchmark image untiled (one warm-up run, then --runs timed ones) and prints one JSON line:
// times (ms), peak RSS of the process (MiB), the engine's peak live bytes (MiB) and an output sample.
import { createRequire } from 'module';
import { benchInput, outputSample, parseArgs } from './bench-input.mjs';

const require = createRequire(import.meta.url);
const { Tensor, memory, setNumThreads } = require('../../packages/kdsr-cuda');
const { loadKdsrModel, upscale } = require('../../packages/kdsr-core');

const args = parseArgs(process.argv.slice(2));
const [height, width, runs] = [Number(args.height), Number(args.width), Number(args.runs ?? 1)];
setNumThreads(Number(args.threads ?? 2));
const { model } = loadKdsrModel(args.weights);
const lr = Tensor.fromArray(benchInput(height, width), [1, 3, height, width]);
const times = [];
let sr;
for (let run = 0; run <= runs; run++) {
  sr?.dispose();
  const start = performance.now();
  sr = upscale(model, lr, { tile: Infinity });
  if (run > 0) times.push(performance.now() - start);
}
const result = { times, peakRssMiB: process.resourceUsage().maxRSS / 1024, enginePeakMiB: memory().peakBytes / 2 ** 20, sample: outputSample(sr.toFloat32Array()) };
console.log(JSON.stringify(result));
