// random_poisson on CUDA devices: one thread per element runs the CPU's per-element algorithm
// (poisson.h: the same Philox counters, uniforms and arithmetic, this file compiled without FMA
// contraction; the log k! table comes from the host), so a draw equals the CPU's for the same seed and
// offset; poisson.h says what could, with a chance of about 1e-16 per comparison, still differ (exp and
// log within 1 ulp of libm's).
//
// Not checked here (it would need a synchronising read-back): a negative or non-finite rate gives a
// NaN count instead of raising the CPU's error.
#include <cmath>

#include "../../cuda/cuda_utils.cuh"
#include "poisson.h"

namespace kdsr {
namespace {

// ----------------------------------------------------------------------------
// CUDA kernels

// counts[i] = Poisson(rate[i]) of element offset + i; grid-stride. The iterations of a rejection or
// product loop varies per element, so a warp waits for its slowest lane (a few iterations at most).
__global__ void random_poisson_forward_kernel1(float* counts, const float* rate, int64_t n, uint64_t seed, uint64_t offset,
                                               const __grid_constant__ poisson::LogFactorialTable table) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const double lambda = rate[i];
    counts[i] = lambda >= 0 && isfinite(lambda) ? static_cast<float>(poisson::draw(lambda, seed, offset + static_cast<uint64_t>(i), table)) : NAN;
  }
}

// ----------------------------------------------------------------------------
// Kernel launchers

Tensors random_poisson_cuda(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 1);
  const Tensor& rate = in[0];
  KDSR_CHECK(rate.defined(), op, "rate is required");
  const uint64_t seed = poisson::stream_position(attrs, "seed"), offset = poisson::stream_position(attrs, "offset");
  Tensor counts = Tensor::empty(rate.shape(), rate.dtype(), rate.device());
  const int64_t n = rate.numel();
  if (n == 0) return {counts};
  CudaGuard guard(rate.device());
  constexpr int threads = 256;
  random_poisson_forward_kernel1<<<elementwise_blocks(n, threads, guard.device()), threads, 0, guard.stream()>>>(
      counts.data<float>(), rate.data<float>(), n, seed, offset, poisson::log_factorial_table());
  cudaCheckLaunch(op.c_str());
  return {counts};
}

KDSR_REGISTER_KERNEL("random_poisson", "cuda", "cuda", ({DType::F32}), random_poisson_cuda);

}  // namespace
}  // namespace kdsr
