// log(sum_i exp(scale * x[i])) over one row, computed by a whole block (stable: the row maximum is
// subtracted first; the sum is in double, as log_sum_exp.h does on the CPU). Shared by softmax,
// log_softmax and the distillation loss on CUDA devices.
#pragma once
#include "../../cuda/cuda_utils.cuh"

namespace kdsr {

__device__ __forceinline__ double block_row_lse(const float* row, int64_t n, double scale, float* fscratch, double* dscratch) {
  float m = -INFINITY;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) m = nan_max(m, static_cast<float>(scale * row[i]));
  const double mx = block_max(m, fscratch);
  if (!isfinite(mx)) return mx;  // every entry -inf (or one +inf): nothing finite to normalise by
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += exp(scale * row[i] - mx);
  return mx + log(block_sum(s, dscratch));
}

}  // namespace kdsr
