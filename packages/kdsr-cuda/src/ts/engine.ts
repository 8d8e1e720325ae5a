// Engine-wide settings and facts: which backends this build has, devices, CPU threads.
import { BuildInfo, CpuIsa, CudaAvailability, DeviceListing, native } from './binding';

export function buildInfo(): BuildInfo {
  return native().buildInfo();
}

/** 'cpu' plus one entry per usable CUDA GPU. */
export function devices(): DeviceListing[] {
  return native().devices();
}

/**
 * Whether CUDA devices can be used; if not, why: a CPU-only build, a CUDA module that could not load
 * cuDNN/cuBLAS (buildInfo().cuda has the details and what to install), or no usable GPU or driver.
 */
export function cudaAvailability(): CudaAvailability {
  return native().cudaAvailability();
}

/** Which CPU implementation runs convolution and matmul: 'onednn' (default where built) or the plain 'reference'. */
export function setCpuImplementation(impl: 'onednn' | 'reference'): void {
  native().setCpuPreference(impl);
}

export function cpuImplementation(): 'onednn' | 'reference' {
  return native().getCpuPreference();
}

export function setNumThreads(n: number): void {
  native().setNumThreads(n);
}

export function numThreads(): number {
  return native().getNumThreads();
}

/**
 * The instruction set kdsr's own CPU kernels run with (dynamic convolution, blur, reference
 * convolution): the best this CPU has unless a lower one is forced here or by the environment
 * variable KDSR_CPU_ISA. Results may differ in the last bits between instruction sets (vector
 * widths and fused multiply-adds), never between thread counts. oneDNN has its own switch
 * (ONEDNN_MAX_CPU_ISA). Process-wide.
 */
export function setCpuIsa(isa: CpuIsa): void {
  native().setCpuIsa(isa);
}

export function cpuIsa(): CpuIsa {
  return native().getCpuIsa();
}

/** The instruction sets setCpuIsa accepts on this CPU, lowest first. */
export function supportedCpuIsas(): CpuIsa[] {
  return native().supportedCpuIsas();
}

/** Waits for queued work on a device (reading a tensor back does this implicitly). */
export function synchronize(device = 'cpu'): void {
  native().synchronize(device);
}

/**
 * Float32 math of cuDNN convolutions and cuBLAS matrix products on CUDA devices: 'tf32' (tensor cores,
 * the default) or strict 'fp32' (bitwise closer to the CPU; the test suite uses it). Process-wide.
 */
export function setCudaMath(math: 'tf32' | 'fp32'): void {
  native().setCudaMath(math);
}

export function cudaMath(): 'tf32' | 'fp32' {
  return native().getCudaMath();
}
