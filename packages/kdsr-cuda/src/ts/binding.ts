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
}

export interface BuildInfo {
  version: string;
  backends: Array<'cpu' | 'cuda'>;
  /** oneDNN version the CPU backend was built with, or null for reference kernels only. */
  onednn: string | null;
  openmp: boolean;
  compiler: string;
  /** What the CUDA backend was built with, or null for a CPU-only build. */
  cuda: { runtime: string; cudnn: string; cublas: string; architectures: string } | null;
}

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
  setCpuPreference(impl: 'onednn' | 'reference'): void;
  getCpuPreference(): 'onednn' | 'reference';
  setNumThreads(n: number): void;
  getNumThreads(): number;
  synchronize(device: string): void;
  setCudaMath(math: 'tf32' | 'fp32'): void;
  getCudaMath(): 'tf32' | 'fp32';
  emptyCache(device: string): void;
  /** The raw Philox4x32-10 block function behind the random kernels (for known-answer tests). */
  philox4x32(counter: readonly number[], key: readonly number[]): number[];
}

/** Where the addon may be: an explicit path, then the cmake-js build of this package. */
function candidates(): string[] {
  const list: string[] = [];
  if (process.env.KDSR_NATIVE_PATH) list.push(path.resolve(process.env.KDSR_NATIVE_PATH));
  list.push(path.join(packageRoot(), 'build', 'Release', 'kdsr_native.node'));
  return list;
}

function load(): NativeBinding {
  const failures: string[] = [];
  for (const file of candidates()) {
    if (!fs.existsSync(file)) {
      failures.push(`${file}: not found`);
      continue;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      return require(file) as NativeBinding;
    } catch (error) {
      const message = (error as Error).message;
      failures.push(`${file}: ${message}`);
      if (/lib(cudnn|cublas)[^:]*\.so/.test(message))
        failures.push(
          '    this build has the CUDA backend: make cuDNN 9 and cuBLAS visible with LD_LIBRARY_PATH (e.g. the nvidia/cudnn/lib and nvidia/cu13/lib folders of a PyTorch environment), or rebuild CPU-only with KDSR_CUDA=OFF',
        );
    }
  }
  throw new Error(
    [
      `@kdsr/cuda: the native addon could not be loaded (${process.platform}-${process.arch}, Node ${process.version}).`,
      ...failures.map((f) => `  - ${f}`),
      'Possible solutions:',
      '  - build it: npm run build:native -w @kdsr/cuda (needs cmake >= 3.18 and a C++17 compiler; oneDNN optional: apt-get install libdnnl-dev)',
      '  - if npm skipped install scripts, allow them for @kdsr/cuda (npm install-scripts approve @kdsr/cuda) and reinstall',
      '  - point KDSR_NATIVE_PATH at a prebuilt kdsr_native.node',
    ].join('\n'),
  );
}

let binding: NativeBinding | undefined;

/** The loaded addon (loaded on first use). */
export function native(): NativeBinding {
  if (!binding) binding = load();
  return binding;
}
