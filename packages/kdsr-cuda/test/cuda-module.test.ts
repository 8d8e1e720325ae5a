// The CUDA module (kdsr_cuda_backend.so beside the addon) loads only when cuDNN and cuBLAS can be found;
// otherwise the addon stays CPU-only and says why. The addon loads the module once per process, so each
// case runs a copy of the addon and its module in a fresh Node process, with the libraries hidden or
// shown through KDSR_CUDA_LIBRARY_PATH (which replaces kdsr's own fallback folders) and no LD_LIBRARY_PATH.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildInfo, nativeOrigin, opTable } from '../src/ts';
import type { BuildInfo, CudaAvailability, KernelListing } from '../src/ts';

const info = buildInfo();
const expectCuda = process.env.KDSR_EXPECT_CUDA === '1';

interface Report {
  build: BuildInfo;
  availability: CudaAvailability;
  kernels: KernelListing[];
  cpuSum: number;
  cudaError: string;
}

// Loads the addon, reports, runs a CPU op, and tries a CUDA tensor.
const probe = `
const addon = require(process.argv[1]);
const x = addon.fromArray(new Float32Array([1, 2, 3]), [3], 'cpu');
let cudaError = '';
try { addon.fromArray(new Float32Array(3), [3], 'cuda:0'); } catch (e) { cudaError = e.message; }
console.log(JSON.stringify({ build: addon.buildInfo(), availability: addon.cudaAvailability(), kernels: addon.listKernels(),
  cpuSum: Array.from(x.read()).reduce((a, b) => a + b, 0), cudaError }));
`;

function run(addon: string, libraryPath: string): Report {
  const env: NodeJS.ProcessEnv = { ...process.env, KDSR_CUDA_LIBRARY_PATH: libraryPath };
  delete env.LD_LIBRARY_PATH;
  return JSON.parse(execFileSync(process.execPath, ['-e', probe, addon], { env, encoding: 'utf8' })) as Report;
}

/** Whether the dynamic loader finds these libraries by itself (ld.so.cache): then they cannot be hidden. */
function onSystemPath(names: string[]): boolean {
  const cache = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' }).stdout ?? '';
  return names.some((n) => cache.includes(n));
}

const cudaOps = Object.entries(opTable())
  .filter(([, spec]) => spec.backends.includes('cuda'))
  .map(([op]) => op)
  .sort();

const hasModule = info.cuda !== null;
if (!hasModule && !expectCuda) {
  // eslint-disable-next-line no-console
  console.warn('SKIPPED CUDA module tests: this build of @kdsr/cuda has no CUDA module (CPU-only build).');
}

(hasModule || expectCuda ? describe : describe.skip)('the CUDA module, loaded at run time', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kdsr-cuda-module-'));
  const empty = path.join(work, 'no-libraries');
  const addon = path.join(work, 'kdsr_native.node');

  beforeAll(() => {
    expect(info.cuda).not.toBeNull();
    // A copy elsewhere: the addon finds the module beside itself, wherever that is.
    const built = path.dirname(nativeOrigin().file);
    fs.copyFileSync(path.join(built, 'kdsr_native.node'), addon);
    fs.copyFileSync(path.join(built, 'kdsr_cuda_backend.so'), path.join(work, 'kdsr_cuda_backend.so'));
    fs.mkdirSync(empty);
  });

  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test('with cuDNN and cuBLAS hidden, the addon loads, runs on the CPU and says which library is missing and what to install', () => {
    if (onSystemPath(['libcudnn.so.9', 'libcublas.so.'])) {
      // eslint-disable-next-line no-console
      console.warn('SKIPPED: cuDNN or cuBLAS is on the system library path (ldconfig -p), so it cannot be hidden here');
      return;
    }
    const r = run(addon, empty);
    expect(r.build.backends).toEqual(['cpu']);
    expect(r.cpuSum).toBe(6);
    expect(r.kernels.filter((k) => k.backend === 'cuda')).toEqual([]);
    const cuda = r.build.cuda;
    if (!cuda || cuda.loaded) throw new Error(`expected a CUDA module that did not load, got ${JSON.stringify(cuda)}`);
    expect(cuda.module).toBe(path.join(work, 'kdsr_cuda_backend.so'));
    expect(cuda.searched).toEqual([empty]);
    expect(cuda.error).toMatch(/^lib(cudnn|cublas)\S*\.so\.\d+: cannot open shared object file: No such file or directory$/);
    expect(cuda.hint).toContain('pip install nvidia-cudnn-cu13 nvidia-cublas');
    expect(cuda.hint).toContain('KDSR_CUDA_LIBRARY_PATH');
    expect(r.availability).toEqual({ available: false, reason: `the CUDA backend did not load: ${cuda.error}` });
    expect(r.cudaError).toBe(`device 'cuda:0' is not available: the CUDA backend did not load: ${cuda.error}`);
  });

  test('with cuDNN and cuBLAS found (KDSR_CUDA_LIBRARY_PATH), it loads every CUDA kernel, and says why there is no GPU when there is none', () => {
    if (!info.cuda?.loaded) throw new Error(`the CUDA module of this build did not load here: ${JSON.stringify(info.cuda)}`);
    const folders = [...new Set([info.cuda.cudnn.file, info.cuda.cublas.file].map((f) => path.dirname(f)))];
    const r = run(addon, folders.join(':'));
    expect(r.build.backends).toEqual(['cpu', 'cuda']);
    const cuda = r.build.cuda;
    if (!cuda?.loaded) throw new Error(`expected the CUDA module to load, got ${JSON.stringify(cuda)}`);
    expect(cuda.module).toBe(path.join(work, 'kdsr_cuda_backend.so'));
    expect(cuda.searched).toEqual(folders);
    expect(cuda.cudnn.file).toBe(info.cuda.cudnn.file);
    expect(cuda.cublas.file).toBe(info.cuda.cublas.file);
    expect([...new Set(r.kernels.filter((k) => k.backend === 'cuda').map((k) => k.op))].sort()).toEqual(cudaOps);
    expect(r.cpuSum).toBe(6);
    if (r.availability.available) {
      expect(r.cudaError).toBe('');
    } else {
      // No GPU here: the reason names the missing driver, or what the CUDA runtime said.
      expect(r.availability.reason).toMatch(/^no usable CUDA GPU: (no NVIDIA driver: libcuda\.so\.1: cannot open shared object file.*|.*cudaGetDeviceCount: .+)$/);
      expect(r.cudaError).toMatch(/^device 'cuda:0' is not available: no usable CUDA GPU was found \(.+\)$/);
    }
  });

  test('a module built from other sources than the addon is refused with a clear message', () => {
    if (!info.cuda?.loaded) throw new Error('needs a loadable CUDA module');
    // An addon from other sources has another ABI tag (cmake/AbiTag.cmake): renaming the tag symbol in a
    // copy of the addon (same length, so the file stays valid) makes it one.
    const bytes = fs.readFileSync(addon);
    const text = bytes.toString('latin1');
    const tag = /kdsr_abi_[0-9a-f]{16}/.exec(text)?.[0];
    expect(tag).toBeDefined();
    const other = path.join(work, 'other');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'kdsr_native.node'), Buffer.from(text.split(tag as string).join('kdsr_abi_0000000000000000'), 'latin1'));
    fs.copyFileSync(path.join(work, 'kdsr_cuda_backend.so'), path.join(other, 'kdsr_cuda_backend.so'));
    const folders = [...new Set([info.cuda.cudnn.file, info.cuda.cublas.file].map((f) => path.dirname(f)))];
    const r = run(path.join(other, 'kdsr_native.node'), folders.join(':'));
    expect(r.build.backends).toEqual(['cpu']);
    expect(r.cpuSum).toBe(6);
    const cuda = r.build.cuda;
    if (!cuda || cuda.loaded) throw new Error(`expected a CUDA module that did not load, got ${JSON.stringify(cuda)}`);
    expect(cuda.error).toBe(`${path.join(other, 'kdsr_cuda_backend.so')}: undefined symbol: ${tag} (the CUDA module was built from other sources than this addon: rebuild both)`);
    expect(cuda.hint).toBeNull();
  });
});
