// KDSR_HOST_DEVICE marks a function that CPU and CUDA kernels share: __host__ __device__ when the
// header is compiled by nvcc, a plain inline function for the C++ compiler.
#pragma once

#if defined(__CUDACC__)
#define KDSR_HOST_DEVICE __host__ __device__
#else
#define KDSR_HOST_DEVICE
#endif
