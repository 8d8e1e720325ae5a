// The CUDA backend as every machine sees it: what the build reports, and that asking a machine
// without a GPU (or a CPU-only build) for a 'cuda:0' tensor fails with a clear error, not a crash.
// Set KDSR_EXPECT_CUDA=1 where the addon was built with the CUDA toolkit (.ci/run does), so that a
// build that silently fell back to CPU-only fails here instead of skipping the CUDA checks.
import { buildInfo, cudaMath, fill, memory, native, opTable, setCudaMath, Tensor } from '../src/ts';
import { gpuDevice } from './cuda-gpu';

const info = buildInfo();
const hasCuda = info.backends.includes('cuda');

describe('CUDA backend: build and load', () => {
  test('buildInfo() says whether the CUDA backend is in this build, with its library versions', () => {
    if (process.env.KDSR_EXPECT_CUDA === '1') expect(info.backends).toContain('cuda');
    expect(info.cuda !== null).toBe(hasCuda);
    if (info.cuda) {
      expect(info.cuda.cudnn).toMatch(/^9\.\d+\.\d+$/);
      expect(info.cuda.cublas).toMatch(/^\d+\.\d+\.\d+$/);
      expect(info.cuda.runtime).toMatch(/^\d+\.\d+/);
      expect(info.cuda.architectures.length).toBeGreaterThan(0);
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
  const expected = hasCuda ? /device 'cuda:0' is not available: no usable CUDA GPU was found \(.+\)/ : /device 'cuda:0' is not available: this build of @kdsr\/cuda was compiled without the CUDA backend/;

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
