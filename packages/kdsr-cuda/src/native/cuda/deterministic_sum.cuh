// A sum over many elements into one float, in double and in a fixed order: per-block partial sums
// over a grid whose size depends only on n, then one block adding the partials. No atomics, so a
// loss or reduction gives the same bits on every run (and the CPU's double accumulation to ~1e-7).
#pragma once
#include <algorithm>

#include "../core/tensor.h"
#include "cuda_utils.cuh"

namespace kdsr {

template <typename F>
__global__ void sum_partials_kernel1(double* partial, int64_t n, F term) {
  __shared__ double scratch[32];
  double s = 0.0;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) s += term(i);
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// A template only so that the kernel can live in this header (vague linkage across translation units).
template <typename Acc>
__global__ void sum_finish_kernel1(float* out, const Acc* partial, int count, double scale) {
  __shared__ double scratch[32];
  double s = 0.0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) s += partial[i];
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) out[0] = static_cast<float>(s * scale);
}

// out[0] = scale * sum_{i < n} term(i), term a __device__ lambda returning double.
template <typename F>
void deterministic_sum(float* out, int64_t n, double scale, const Device& device, const CudaGuard& guard, const std::string& op, F term) {
  constexpr int threads = 256;
  int blocks = static_cast<int>(std::min<int64_t>(1024, std::max<int64_t>(1, CEIL_DIV(n, threads))));
  Tensor partial = Tensor::empty({blocks}, DType::F64, device);
  sum_partials_kernel1<<<blocks, threads, 0, guard.stream()>>>(partial.data<double>(), n, term);
  cudaCheckLaunch(op.c_str());
  sum_finish_kernel1<<<1, 1024, 0, guard.stream()>>>(out, partial.data<double>(), blocks, scale);
  cudaCheckLaunch(op.c_str());
}

}  // namespace kdsr
