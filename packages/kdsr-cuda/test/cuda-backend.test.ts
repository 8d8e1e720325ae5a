// The CUDA backend as every machine sees it: what the build reports, and that asking a machine
// without a GPU (or a CPU-only build) for a 'cuda:0' tensor fails with a clear error, not a crash.
// Set KDSR_EXPECT_CUDA=1 where the addon was built with the CUDA toolkit (.ci/run does), so that a
// build that silently fell back to CPU-only fails here instead of skipping the CUDA checks.
import * as fs from 'fs';
import { buildInfo, cudaAvailability, cudaMath, fill, memory, native, opTable, setCudaMath, Tensor } from '../src/ts';
import { gpuDevice } from './cuda-gpu';

const info = buildInfo();
const hasCuda = info.backends.includes('cuda');

describe('CUDA backend: build and load', () => {
  test('buildInfo() says whether the CUDA module is there and loaded, with the libraries it loaded', () => {
    if (process.env.KDSR_EXPECT_CUDA === '1') expect(info.backends).toContain('cuda');
    expect(info.cuda?.loaded === true).toBe(hasCuda);
    if (info.cuda?.loaded) {
      expect(info.cuda.module).toMatch(/\/kdsr_cuda_backend\.so$/);
      expect(info.cuda.runtime).toMatch(/^\d+\.\d+/);
      expect(info.cuda.architectures.length).toBeGreaterThan(0);
      expect(info.cuda.cudnn.version).toMatch(/^9\.\d+\.\d+$/);
      expect(info.cuda.cublas.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(info.cuda.cublas.version.split('.')[0]).toBe(info.cuda.cublas.builtWith.split('.')[0]);
      for (const library of [info.cuda.cudnn, info.cuda.cublas]) expect(fs.existsSync(library.file)).toBe(true);
    } else if (info.cuda) {
      expect(info.cuda.error.length).toBeGreaterThan(0);
    }
  });

  test('cudaAvailability() agrees with the device list and says why when there is no GPU', () => {
    const gpus = native()
      .devices()
      .filter((d) => d.device.startsWith('cuda:')).length;
    const availability = cudaAvailability();
    if (availability.available) {
      expect(availability.devices).toBe(gpus);
    } else {
      expect(gpus).toBe(0);
      if (!info.cuda) expect(availability.reason).toBe('this build of @kdsr/cuda was compiled without the CUDA backend (CPU only)');
      else if (!info.cuda.loaded) expect(availability.reason).toBe(`the CUDA backend did not load: ${info.cuda.error}`);
      else expect(availability.reason).toMatch(/^no usable CUDA GPU: .+/);
    }
  });

  test('a CUDA build registers a cuda kernel for every op whose op-table entry lists cuda', () => {
    const cudaKernels = new Set(
      native()
        .listKernels()
        .filter((k) => k.backend === 'cuda')
        .map((k) => k.op),
    );
    const listed = Object.entries(opTable())
      .filter(([, spec]) => spec.backends.includes('cuda'))
      .map(([op]) => op);
    if (hasCuda) expect(listed.filter((op) => !cudaKernels.has(op))).toEqual([]);
    else expect(cudaKernels.size).toBe(0);
  });

  test('setCudaMath switches between tf32 and fp32 and rejects anything else', () => {
    const before = cudaMath();
    try {
      setCudaMath('fp32');
      expect(cudaMath()).toBe('fp32');
      setCudaMath('tf32');
      expect(cudaMath()).toBe('tf32');
      expect(() => setCudaMath('fp16' as 'fp32')).toThrow("unknown CUDA math mode 'fp16' (expected 'tf32' or 'fp32')");
    } finally {
      setCudaMath(before);
    }
  });
});

const noGpu = gpuDevice() === null;
(noGpu ? describe : describe.skip)('CUDA backend without a usable GPU', () => {
  const expected = hasCuda
    ? /device 'cuda:0' is not available: no usable CUDA GPU was found \(.+\)/
    : /device 'cuda:0' is not available: (this build of @kdsr\/cuda was compiled without the CUDA backend|the CUDA backend did not load: .+)/;

  test("creating a tensor on 'cuda:0' throws a clear error and the process goes on", () => {
    expect(() => Tensor.fromArray([1, 2, 3], [3], { device: 'cuda:0' })).toThrow(expected);
    const x = Tensor.fromArray([1, 2, 3], [3]);
    expect(() => x.to('cuda:0')).toThrow(expected);
    expect(Array.from(x.toArray())).toEqual([1, 2, 3]);
    x.dispose();
  });

  test("ops, memory statistics and device listings answer 'cuda:0' with the same error", () => {
    expect(() => fill([2, 2], 1, { device: 'cuda:0' })).toThrow(expected);
    expect(() => memory('cuda:0')).toThrow(expected);
    expect(native().devices().filter((d) => d.device.startsWith('cuda'))).toEqual([]);
  });
});
