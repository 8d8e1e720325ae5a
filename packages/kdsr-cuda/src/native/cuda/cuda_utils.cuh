// Device helpers shared by the kernels: warp and block reductions in a fixed order, so that results
// never depend on scheduling (deterministic losses and gradients), and a generic elementwise launcher.
#pragma once
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "cuda_common.h"

namespace kdsr {

constexpr unsigned int kFullMask = 0xffffffffu;

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(kFullMask, v, offset);
  return v;
}

// NaN-propagating maximum (a NaN anywhere makes the maximum NaN, as on the CPU).
__device__ __forceinline__ float nan_max(float a, float b) { return isnan(a) ? a : isnan(b) ? b : fmaxf(a, b); }

__device__ __forceinline__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v = nan_max(v, __shfl_down_sync(kFullMask, v, offset));
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); the result is valid in every thread.
// `scratch` holds 32 values of shared memory. Starts with __syncthreads, so a block may call it repeatedly.
template <typename T>
__device__ __forceinline__ T block_sum(T v, T* scratch) {
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : T(0);
  return __shfl_sync(kFullMask, warp_sum(v), 0);
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : -INFINITY;
  return __shfl_sync(kFullMask, warp_max(v), 0);
}

// The generic kernel behind launch_elementwise: f(i) for every i in [0, n), grid-stride.
template <typename F>
__global__ void elementwise_kernel1(int64_t n, F f) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) f(i);
}

// Queues f(i) for i in [0, n) on the guard's stream; f is a __device__ lambda capturing by value.
template <typename F>
void launch_elementwise(int64_t n, const CudaGuard& guard, const std::string& op, F f) {
  if (n <= 0) return;
  constexpr int threads = 256;
  elementwise_kernel1<<<elementwise_blocks(n, threads, guard.device()), threads, 0, guard.stream()>>>(n, f);
  cudaCheckLaunch(op.c_str());
}

}  // namespace kdsr
