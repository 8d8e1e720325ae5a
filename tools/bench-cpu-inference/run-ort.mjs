// onnxruntime-node's side of tools/bench-cpu-inference.mjs, one process per measurement: a session on
// the exported model (--ort: the folder onnxruntime-node was installed into), --threads intra-op
// threads, all graph optimisations; one warm-up run, then --runs timed ones; prints one JSON line
// like run-kdsr.mjs.
import { createRequire } from 'module';
import * as path from 'path';
import { benchInput, outputSample, parseArgs } from './bench-input.mjs';

const args = parseArgs(process.argv.slice(2));
const require = createRequire(path.join(path.resolve(args.ort), 'package.json'));
const ort = require('onnxruntime-node');
const [height, width, runs] = [Number(args.height), Number(args.width), Number(args.runs ?? 1)];
const session = await ort.InferenceSession.create(args.onnx, {
  intraOpNumThreads: Number(args.threads ?? 2),
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
const input = new ort.Tensor('float32', benchInput(height, width), [1, 3, height, width]);
const times = [];
let sr;
for (let run = 0; run <= runs; run++) {
  const start = performance.now();
  sr = (await session.run({ lr: input })).sr;
  if (run > 0) times.push(performance.now() - start);
}
console.log(JSON.stringify({ times, peakRssMiB: process.resourceUsage().maxRSS / 1024, sample: outputSample(sr.data) }));
