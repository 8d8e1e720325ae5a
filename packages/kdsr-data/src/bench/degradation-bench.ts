// Degradation throughput (patches per second) on this machine: the classic pipeline at KDSR-classic's
// training shapes, the second-order pipeline at KDSR-GAN's, their main operators, and the patch
// loader on the shared training images. Run: node dist/bench/degradation-bench.js [--quick] [--device cuda:0]
// Prints a Markdown report (machine, settings, numbers) for BENCHMARKS.md.
import * as os from 'os';
import * as path from 'path';
import { buildInfo, devices, numThreads, synchronize, Tensor, tidy } from '@kdsr/cuda';
import { blur } from '../degradation/blur';
import { isotropicGaussianKernel } from '../degradation/kernels';
import { RandomStream } from '../degradation/random-stream';
import { bicubicKdsr, imresize } from '../degradation/resize';
import { ClassicSampler, degradeWithSampler } from '../degradation/samplers';
import { openHrFolder } from '../datasets/dataset';
import { PatchLoader } from '../datasets/loader';
import { jpegCompress } from '../realesrgan/jpeg';
import { sampleKernels } from '../realesrgan/kernel-sampler';
import { randomPoissonNoise } from '../realesrgan/noise';
import { degradeSecondOrder } from '../realesrgan/second-order';
import { usmSharp } from '../realesrgan/usm';

const quick = process.argv.includes('--quick');
const deviceFlag = process.argv.indexOf('--device');
const device = deviceFlag >= 0 ? process.argv[deviceFlag + 1] : 'cpu';

/** Median seconds of `runs` calls after one warm-up call; GPU work is waited for inside the timing. */
function time(runs: number, fn: () => void): number {
  fn();
  synchronize(device);
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    fn();
    synchronize(device);
    t.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

function image(b: number, h: number, w: number, seed: number): Tensor {
  const data = new Float32Array(b * 3 * h * w);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = 0.5 + 0.3 * Math.sin(i / 37) + 0.2 * (s / 4294967296 - 0.5);
  }
  return Tensor.fromArray(data, [b, 3, h, w], { device });
}

interface Row {
  what: string;
  shape: string;
  seconds: number;
  patches: number;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const runs = quick ? 2 : 5;
  const add = (what: string, shape: string, patches: number, seconds: number) => {
    rows.push({ what, shape, seconds, patches });
    process.stderr.write(`${what}: ${(patches / seconds).toFixed(1)} patches/s\n`);
  };

  // Classic: KDSR-classic trains on 64 HR patches of 256x256 (LR 64, x4) per batch.
  const classicBatch = quick ? 16 : 64;
  const hr = image(classicBatch, 256, 256, 1);
  const stream = new RandomStream(1);
  const iso = new ClassicSampler({ blur: 'iso' });
  const aniso = new ClassicSampler({ blur: 'aniso', noiseLevel: 25 });
  add('classic iso (blur, bicubic x1/4, quantise)', `${classicBatch}x3x256x256`, classicBatch, time(runs, () => tidy(() => void degradeWithSampler(hr, iso, stream, 4))));
  add('classic aniso + noise 25', `${classicBatch}x3x256x256`, classicBatch, time(runs, () => tidy(() => void degradeWithSampler(hr, aniso, stream, 4))));
  const k21 = isotropicGaussianKernel(2.6);
  add('  blur 21x21 (dyn_dwconv, reflect)', `${classicBatch}x3x256x256`, classicBatch, time(runs, () => tidy(() => void blur(hr, k21))));
  add('  KDSR bicubic x1/4', `${classicBatch}x3x256x256`, classicBatch, time(runs, () => tidy(() => void bicubicKdsr(hr, 0.25))));
  add('  MATLAB imresize x1/4', `${classicBatch}x3x256x256`, classicBatch, time(runs, () => tidy(() => void imresize(hr, 0.25))));
  hr.dispose();

  // Second order: KDSR-GAN degrades 9 GT crops of 400x400 per GPU batch.
  const gtBatch = quick ? 3 : 9;
  const gt = image(gtBatch, 400, 400, 2);
  const kernels = () => {
    const s = Array.from({ length: gtBatch }, () => sampleKernels(stream));
    return { k1: s.map((k) => k.k1), k2: s.map((k) => k.k2), sinc: s.map((k) => k.sinc) };
  };
  add('second-order (incl. kernel sampling)', `${gtBatch}x3x400x400`, gtBatch, time(runs, () => tidy(() => void degradeSecondOrder(gt, kernels(), stream))));
  add('  kernel sampling (k1, k2, sinc)', `${gtBatch} samples`, gtBatch, time(runs, () => void kernels()));
  add('  DiffJPEG', `${gtBatch}x3x400x400`, gtBatch, time(runs, () => tidy(() => void jpegCompress(gt, new Array(gtBatch).fill(50)))));
  add('  Poisson noise', `${gtBatch}x3x400x400`, gtBatch, time(runs, () => tidy(() => void randomPoissonNoise(gt, { range: [0.05, 3], grayProb: 0.4 }, stream))));
  const gt256 = image(gtBatch, 256, 256, 3);
  add('  USM sharpening (51x51, separable)', `${gtBatch}x3x256x256`, gtBatch, time(runs, () => tidy(() => void usmSharp(gt256))));
  gt.dispose();
  gt256.dispose();

  // Loader: decoding + random 256x256 crops + flips from the shared training folders.
  const train = process.env.KDSR_DATASETS ?? path.resolve(__dirname, '..', '..', '..', '..', '..', 'shared', 'datasets', 'train');
  let loaderLine = '';
  try {
    const dataset = await openHrFolder(train);
    const workers = Math.max(1, os.cpus().length - 1);
    const loader = new PatchLoader({ dataset, batchSize: 16, lrPatch: 64, scale: 4, workers, seed: 1, device });
    const limit = quick ? 4 : 16;
    let batches = 0;
    const start = process.hrtime.bigint();
    for await (const batch of loader.epoch(0)) {
      batch.hr.dispose();
      if (++batches === limit) break;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    await loader.close();
    const stats = loader.stats()!;
    add(`patch loader (${workers} decode worker${workers > 1 ? 's' : ''}, ${batches} batches)`, '16x3x256x256', 16, seconds / batches);
    loaderLine = `Loader: ${dataset.files.length} images under ${train}; ${stats.skippedTooSmall} draws skipped as smaller than 256 px.`;
  } catch (error) {
    loaderLine = `Loader not measured: ${(error as Error).message}`;
  }

  const cpu = os.cpus();
  const info = buildInfo();
  const lines = [
    `Machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} logical CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${os.type()} ${os.release()}; Node ${process.version}.`,
    `Engine: backends ${info.backends.join(', ')}, oneDNN ${info.onednn ?? 'none'}, ${numThreads()} OpenMP threads; float32; median of ${runs} runs after a warm-up${quick ? ' (--quick)' : ''}.`,
    `Device: ${device} (${devices().find((d) => d.device === device)?.name ?? 'unknown'}).`,
    '',
    '| what | batch | s / batch | patches / s |',
    '| --- | --- | ---: | ---: |',
    ...rows.map((r) => `| ${r.what} | ${r.shape} | ${r.seconds.toFixed(3)} | ${(r.patches / r.seconds).toFixed(1)} |`),
    '',
    loaderLine,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
