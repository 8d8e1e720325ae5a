// The planned CPU inference path against the layer-by-layer modules it stands in for: the student's
// encoder feature maps and generator output (M preset and small networks at x2, x3, x4) in every
// activation layout (the one oneDNN picks here, NCHW, nChw8c, NHWC), the upsampler in bands, peak
// memory, thread-count independence, and when the path applies.
import { fromBlocked, memory, numThreads, resetPeakMemory, setNumThreads, Tensor, testing, tidy } from '@kdsr/cuda';
import { noGrad } from '../src/autograd/graph';
import { BlockedLayout, PlannedGenerator, planLayout, plannedEncoderFeatures } from '../src/inference/planned-network';
import { kdsrConfig, KdsrConfig } from '../src/models/config';
import { KdsrStudent } from '../src/models/kdsr';
import { randomArray, relativeError } from './helpers';

const { withCpuImplementation } = testing;
const cpuImplementations = testing.cpuImplementations();

const image = (h: number, w: number, seed: number) => Tensor.fromArray(Float32Array.from(randomArray(3 * h * w, seed, 0, 1)), [1, 3, h, w]);

// Every convolution adds in its own order (conv2d's kernels compute in NCHW), over the M generator's
// 56 convolutions and 53 residual blocks: measured up to 1e-6 relative.
const TOLERANCE = 1e-5;

/** The layouts to check: what this CPU's oneDNN picks (when built in), and the others by hand. */
function layoutsFor(model: KdsrStudent): Array<[string, BlockedLayout]> {
  const picked = planLayout(model);
  return [
    ...(picked ? [[`picked here (${picked.family})`, picked] as [string, BlockedLayout]] : []),
    ['NCHW', new BlockedLayout(1)],
    ['nChw8c', new BlockedLayout(8)],
    ['NHWC', new BlockedLayout(0)],
  ];
}

/** The layer-by-layer student: D, encoder maps and SR. */
function reference(model: KdsrStudent, lr: Tensor): { d: Tensor; maps: Float32Array; sr: Float32Array } {
  return noGrad(() =>
    tidy(() => {
      const maps = model.E_st.featureMaps(lr).toFloat32Array();
      const d = model.E_st.forward(lr).idr;
      return { d, maps, sr: model.G.forward(lr, d).toFloat32Array() };
    }),
  );
}

function planned(model: KdsrStudent, lr: Tensor, d: Tensor, layout: BlockedLayout, tailBandBytes?: number): { maps: Float32Array; sr: Float32Array } {
  return tidy(() => {
    const maps = fromBlocked(plannedEncoderFeatures(model.E_st, lr, layout), 4 * model.config.nFeats).toFloat32Array();
    const generator = new PlannedGenerator(model.G, d, layout, { tailBandBytes });
    try {
      const sr = generator.run(lr);
      expect([sr.channels, sr.height, sr.width]).toEqual([3, model.config.scale * lr.shape[2], model.config.scale * lr.shape[3]]);
      return { maps, sr: sr.data };
    } finally {
      generator.dispose();
    }
  });
}

test('M preset x4: encoder maps and SR equal the modules\' (in the layout picked here, and NCHW)', () => {
  const student = new KdsrStudent(kdsrConfig('M', { scale: 4 }), { seed: 7 });
  const lr = image(20, 24, 3);
  const expected = reference(student, lr);
  for (const [name, layout] of layoutsFor(student).filter(([n]) => n !== 'nChw8c' && n !== 'NHWC')) {
    const got = planned(student, lr, expected.d, layout);
    expect({ name, maps: relativeError(got.maps, expected.maps) < TOLERANCE }).toEqual({ name, maps: true });
    expect({ name, sr: relativeError(got.sr, expected.sr) < TOLERANCE }).toEqual({ name, sr: true });
  }
  expected.d.dispose();
  lr.dispose();
  student.dispose();
});

test.each([2, 3, 4])('x%i, the reference kernels and oneDNN: SR equals the modules\'; the upsampler in bands of one LR row gives the same rows', (scale) => {
  const config: KdsrConfig = kdsrConfig('custom', { nFeats: 16, nBlocks: 2, nResblocks: 1, scale });
  const student = new KdsrStudent(config, { seed: scale });
  const lr = image(9, 11, 5);
  for (const impl of cpuImplementations)
    withCpuImplementation(impl, () => {
      const expected = reference(student, lr);
      for (const [name, layout] of layoutsFor(student)) {
        const whole = planned(student, lr, expected.d, layout);
        const banded = planned(student, lr, expected.d, layout, 1);
        expect({ impl, name, sr: relativeError(whole.sr, expected.sr) < TOLERANCE }).toEqual({ impl, name, sr: true });
        expect({ impl, name, maps: relativeError(whole.maps, expected.maps) < TOLERANCE }).toEqual({ impl, name, maps: true });
        expect({ impl, name, banded: relativeError(banded.sr, whole.sr) < 1e-5 }).toEqual({ impl, name, banded: true });
      }
      expected.d.dispose();
    });
  lr.dispose();
  student.dispose();
});

test('the planned path applies to float32 CPU models with oneDNN preferred', () => {
  const config = kdsrConfig('custom', { nFeats: 8, nBlocks: 1, nResblocks: 1, scale: 2 });
  const f64 = new KdsrStudent(config, { seed: 1, dtype: 'float64' });
  const f32 = new KdsrStudent(config, { seed: 1 });
  expect(planLayout(f64)).toBeNull();
  expect(withCpuImplementation('reference', () => planLayout(f32))).toBeNull();
  f64.dispose();
  f32.dispose();
});

test('peak memory: a few body feature maps whatever the depth, the upsampler bounded by its band; a second run allocates nothing new', () => {
  const [h, w] = [48, 64];
  const peak = (nBlocks: number, tailBandBytes?: number) => {
    const student = new KdsrStudent(kdsrConfig('custom', { nFeats: 16, nBlocks, nResblocks: 1, scale: 4 }), { seed: 2 });
    const lr = image(h, w, 4);
    const d = noGrad(() => student.E_st.forward(lr).idr);
    const generator = new PlannedGenerator(student.G, d, planLayout(student) ?? new BlockedLayout(1), { tailBandBytes });
    generator.run(lr); // packs the weights (kept for later calls) and fills the allocator's cache
    const before = memory();
    resetPeakMemory();
    generator.run(lr);
    const bytes = memory().peakBytes - before.liveBytes;
    expect(memory().liveBytes).toBe(before.liveBytes);
    expect(memory().reservedBytes).toBe(before.reservedBytes); // every buffer came from the cache
    generator.dispose();
    d.dispose();
    lr.dispose();
    student.dispose();
    return bytes;
  };
  const featureMap = 16 * h * w * 4;
  const shallow = peak(1);
  expect(peak(12)).toBe(shallow);
  // The whole image at once: the upsampler's widest pair, 2 x 16 maps at the 2x size (4 LR maps each).
  expect(shallow).toBeGreaterThan(32 * featureMap);
  // Bands of one row (five with their context): a fraction of that.
  expect(peak(1, 1)).toBeLessThan(shallow / 2);
});

describe('thread-count independence', () => {
  const initial = numThreads();
  afterAll(() => setNumThreads(initial));

  test('1, 2, 3 and 16 threads give bit-identical SR', () => {
    const student = new KdsrStudent(kdsrConfig('custom', { nFeats: 64, nBlocks: 2, nResblocks: 1, scale: 4 }), { seed: 9 });
    const lr = image(28, 36, 6);
    const layout = planLayout(student) ?? new BlockedLayout(1);
    const d = noGrad(() => student.E_st.forward(lr).idr);
    const run = (threads: number) => {
      setNumThreads(threads);
      const generator = new PlannedGenerator(student.G, d, layout);
      const sr = generator.run(lr).data;
      const maps = tidy(() => plannedEncoderFeatures(student.E_st, lr, layout).toFloat32Array());
      generator.dispose();
      return [sr, maps];
    };
    const one = run(1);
    for (const n of [2, 3, 16]) {
      const many = run(n);
      many.forEach((out, i) => {
        if (!out.every((v, j) => Object.is(v, one[i][j]))) throw new Error(`output ${i} differs between 1 and ${n} threads`);
      });
    }
    d.dispose();
    lr.dispose();
    student.dispose();
  });
});
