// The addon's surface (src/native/binding/addon.cc) as a TS interface, and its loader.
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from './package-root';

export type DType = 'float32' | 'float64';
export type TypedArray = Float32Array | Float64Array;

/** A native tensor handle. Owned by a `Tensor`; use that class instead. */
export interface NativeTensorHandle {
  readonly shape: number[];
  readonly dtype: DType;
  readonly device: string;
  readonly disposed: boolean;
  read(): TypedArray;
  write(data: TypedArray): void;
  reshape(shape: readonly number[]): NativeTensorHandle;
  to(device: string): NativeTensorHandle;
  dispose(): void;
}

export type AttrValue = number | boolean | string | readonly number[] | null | undefined;
export type Attrs = Record<string, AttrValue>;

export interface KernelListing {
  op: string;
  backend: 'cpu' | 'cuda';
  impl: 'reference' | 'onednn' | 'cuda';
  dtypes: DType[];
}

export interface NativeMemoryStats {
  liveBuffers: number;
  liveBytes: number;
  peakBytes: number;
  reservedBytes: number;
  /** Buffers handed out by the device's caching allocator since the start. */
  allocations: number;
  /** Of those, the ones that took new memory from the device (cache misses); flat in a steady state. */
  segmentAllocations: number;
}

/** A library the CUDA module loaded: its version, the version of the headers it was built against, its file. */
export interface CudaLibrary {
  version: string;
  builtWith: string;
  file: string;
}

/**
 * The CUDA backend: a module beside the addon (`kdsr_cuda_backend.so`) that the addon loads when it
 * loads, if cuDNN and cuBLAS can be found. `searched` lists the folders looked in after the dynamic
 * loader's own search (KDSR_CUDA_LIBRARY_PATH, or the source build's folders and the pip wheels' usual places).
 */
export type CudaBuildInfo =
  | {
      module: string;
      loaded: true;
      searched: string[];
      /** The CUDA runtime (linked statically) and the GPU architectures compiled for. */
      runtime: string;
      architectures: string;
      cudnn: CudaLibrary;
      cublas: CudaLibrary;
    }
  | {
      module: string;
      loaded: false;
      searched: string[];
      /** Why it did not load: the dynamic loader's message, e.g. "libcudnn.so.9: cannot open shared object file: ...". */
      error: string;
      /** What to install, when a library was missing; else null. */
      hint: string | null;
    };

export interface BuildInfo {
  version: string;
  /** The backends that can run: 'cpu', and 'cuda' once its module is loaded (see cudaAvailability() for GPUs). */
  backends: Array<'cpu' | 'cuda'>;
  /** oneDNN version the CPU backend was built with, or null for reference kernels only. */
  onednn: string | null;
  openmp: boolean;
  compiler: string;
  /** The CUDA backend's module, or null for a CPU-only build. */
  cuda: CudaBuildInfo | null;
}

/** Whether 'cuda:N' devices can be used, and if not, why (one line). */
export type CudaAvailability = { available: true; devices: number } | { available: false; reason: string };
/** Instruction sets of kdsr's own SIMD kernels: x86-64-v4, x86-64-v3 (AVX2 + FMA), baseline x86-64. */
export type CpuIsa = 'avx512' | 'avx2' | 'baseline';

export interface DeviceListing {
  device: string;
  name: string;
}

export interface NativeBinding {
  fromArray(data: TypedArray, shape: readonly number[], device: string): NativeTensorHandle;
  run(op: string, inputs: ReadonlyArray<NativeTensorHandle | null>, attrs: Attrs): Array<NativeTensorHandle | null>;
  listKernels(): KernelListing[];
  memoryStats(device: string): NativeMemoryStats;
  buildInfo(): BuildInfo;
  devices(): DeviceListing[];
  cudaAvailability(): CudaAvailability;
  setCpuPreference(impl: 'onednn' | 'reference'): void;
  getCpuPreference(): 'onednn' | 'reference';
  setNumThreads(n: number): void;
  getNumThreads(): number;
  setCpuIsa(isa: CpuIsa): void;
  getCpuIsa(): CpuIsa;
  supportedCpuIsas(): CpuIsa[];
  synchronize(device: string): void;
  setCudaMath(math: 'tf32' | 'fp32'): void;
  getCudaMath(): 'tf32' | 'fp32';
  emptyCache(device: string): void;
  resetPeakMemory(device: string): void;
  /** The raw Philox4x32-10 block function behind the random kernels (for known-answer tests). */
  philox4x32(counter: readonly number[], key: readonly number[]): number[];
}

/** Where the loaded addon came from (`kdsr info` shows it). */
export interface AddonOrigin {
  file: string;
  from: 'KDSR_NATIVE_PATH' | 'source build' | 'platform package';
}

interface Candidate {
  from: AddonOrigin['from'];
  /** What `Tried:` names, e.g. "prebuilt package @kdsr/cuda-linux-x64-gnu". */
  label: string;
  /** The addon's path, or why there is none. */
  locate(): { file: string } | { missing: string };
}

/** This machine as the platform packages name it: linux-x64-gnu, linux-x64-musl, darwin-arm64, ... */
export function platformName(): string {
  if (process.platform !== 'linux') return `${process.platform}-${process.arch}`;
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  return `linux-${process.arch}-${header?.glibcVersionRuntime ? 'gnu' : 'musl'}`;
}

function manifest(): { optionalDependencies?: Record<string, string> } {
  return JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8'));
}

function candidates(): Candidate[] {
  const list: Candidate[] = [];
  const explicit = process.env.KDSR_NATIVE_PATH;
  if (explicit) {
    const file = path.resolve(explicit);
    list.push({ from: 'KDSR_NATIVE_PATH', label: `KDSR_NATIVE_PATH=${explicit}`, locate: () => (fs.existsSync(file) ? { file } : { missing: 'no such file' }) });
  }
  const built = path.join(packageRoot(), 'build', 'Release', 'kdsr_native.node');
  list.push({ from: 'source build', label: `source build ${built}`, locate: () => (fs.existsSync(built) ? { file: built } : { missing: 'not built' }) });
  const name = `@kdsr/cuda-${platformName()}`;
  const published = Object.keys(manifest().optionalDependencies ?? {});
  list.push({
    from: 'platform package',
    label: `prebuilt package ${name}`,
    locate: () => {
      if (!published.includes(name)) return { missing: `there is none for this platform (prebuilt: ${published.join(', ')})` };
      let dir: string;
      try {
        dir = path.dirname(require.resolve(`${name}/package.json`, { paths: [packageRoot()] }));
      } catch {
        return { missing: 'not installed (npm leaves optional dependencies out with --omit=optional or a lockfile made on another platform)' };
      }
      const file = path.join(dir, 'lib', 'kdsr_native.node');
      return fs.existsSync(file) ? { file } : { missing: `${file} is missing (in this repository: npm run build:platform)` };
    },
  });
  return list;
}

let origin: AddonOrigin | undefined;

function load(): NativeBinding {
  const failures: string[] = [];
  for (const candidate of candidates()) {
    const found = candidate.locate();
    if ('missing' in found) {
      failures.push(`${candidate.label}: ${found.missing}`);
      continue;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const binding = require(found.file) as NativeBinding;
      origin = { file: found.file, from: candidate.from };
      return binding;
    } catch (error) {
      failures.push(`${candidate.label}: ${(error as Error).message}`);
    }
  }
  // Modelled on sharp's message: what was tried, why each failed, and the commands that fix it.
  throw new Error(
    [
      `@kdsr/cuda: could not load the native addon on ${platformName()} with Node ${process.version}. Tried:`,
      ...failures.map((f) => `  - ${f}`),
      'Possible solutions:',
      '  - install the prebuilt addon (Linux x64 with glibc): npm install --include=optional @kdsr/cuda',
      '  - build it from source (needs cmake >= 3.18, a C++17 compiler and make; oneDNN for fast CPU kernels: apt-get install libdnnl-dev):',
      '      npm rebuild @kdsr/cuda --foreground-scripts',
    ].join('\n'),
  );
}

let binding: NativeBinding | undefined;

/** The loaded addon (loaded on first use). */
export function native(): NativeBinding {
  if (!binding) binding = load();
  return binding;
}

/** Which addon file was loaded, and from where (loads it if needed). */
export function nativeOrigin(): AddonOrigin {
  native();
  return origin as AddonOrigin;
}
