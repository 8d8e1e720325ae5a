// KDSR_HOST_DEVICE marks the inline functions that CPU kernels (built by the C++ compiler) and CUDA
// kernels (built by nvcc) share: each op's per-element formulas are written once, in a header of the
// op's folder included by its *_cpu.cc and *_cuda.cu. Under nvcc they compile for host and device.
// Inside them, call math as `using std::sqrt; sqrt(x)`, which resolves on both sides.
#pragma once

#if defined(__CUDACC__)
#define KDSR_HOST_DEVICE __host__ __device__
#else
#define KDSR_HOST_DEVICE
#endif
