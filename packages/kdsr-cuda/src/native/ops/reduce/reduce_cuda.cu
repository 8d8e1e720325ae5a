// Reductions and their backward on CUDA devices: x is viewed as (outer, n, inner) with n the reduced
// extent (reduce_geometry.h, shared with the CPU kernels). Sums accumulate in double and every output
// combines its terms in a fixed order, so results are reproducible.
#include "../../cuda/deterministic_sum.cuh"
#include "reduce_geometry.h"

namespace kdsr {
namespace {

// ----------------------------------------------------------------------------
// CUDA kernels

// inner > 1: one thread per output (o, k), j in order; neighbouring threads read neighbouring k.
template <bool Max>
__global__ void reduce_columns_kernel1(float* y, const float* x, int64_t outer, int64_t n, int64_t inner, double factor) {
  for (int64_t out = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; out < outer * inner; out += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float* column = x + (out / inner) * n * inner + out % inner;
    if (Max) {
      float best = -INFINITY;
      for (int64_t j = 0; j < n; j++) best = nan_max(best, column[j * inner]);
      y[out] = best;
    } else {
      double s = 0.0;
      for (int64_t j = 0; j < n; j++) s += column[j * inner];
      y[out] = static_cast<float>(s * factor);
    }
  }
}

// inner == 1: one block per output row, a block reduction over the row.
template <bool Max>
__global__ void reduce_rows_kernel1(float* y, const float* x, int64_t n, double factor) {
  __shared__ float fscratch[32];
  __shared__ double dscratch[32];
  const float* row = x + blockIdx.x * n;
  if (Max) {
    float best = -INFINITY;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) best = nan_max(best, row[j]);
    best = block_max(best, fscratch);
    if (threadIdx.x == 0) y[blockIdx.x] = best;
  } else {
    double s = 0.0;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) s += row[j];
    s = block_sum(s, dscratch);
    if (threadIdx.x == 0) y[blockIdx.x] = static_cast<float>(s * factor);
  }
}

// dx[o, j, k] = dy[o, k] at the first j where x equals the maximum y[o, k] (NaN matches NaN); dx is zeroed first.
__global__ void reduce_max_backward_kernel1(float* dx, const float* dy, const float* x, const float* y, int64_t outer, int64_t n, int64_t inner) {
  for (int64_t out = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; out < outer * inner; out += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t base = (out / inner) * n * inner + out % inner;
    const float m = y[out];
    for (int64_t j = 0; j < n; j++) {
      if (is_maximum(x[base + j * inner], m)) {
        dx[base + j * inner] = dy[out];
        break;
      }
    }
  }
}

// ----------------------------------------------------------------------------
// Kernel launchers

template <bool Max, bool Mean>
Tensors reduce_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  KDSR_CHECK(x.defined(), attrs.op(), "x is required");
  const ReduceGeometry g = reduce_geometry(attrs, x.shape());
  Tensor y = Tensor::empty(g.out_shape, x.dtype(), x.device());
  if (y.numel() == 0) return {y};
  const double factor = Mean ? 1.0 / static_cast<double>(g.n) : 1.0;
  CudaGuard guard(x.device());
  const float* xp = x.data<float>();
  if (g.inner == 1 && (g.outer > 1 || Max)) {
    reduce_rows_kernel1<Max><<<static_cast<unsigned int>(g.outer), 256, 0, guard.stream()>>>(y.data<float>(), xp, g.n, factor);
  } else if (g.inner == 1) {
    // One row of everything: spread over the whole GPU, then add the partials in order.
    deterministic_sum(y.data<float>(), g.n, factor, x.device(), guard, attrs.op(), [=] __device__(int64_t i) { return static_cast<double>(xp[i]); });
    return {y};
  } else {
    constexpr int threads = 256;
    reduce_columns_kernel1<Max><<<elementwise_blocks(g.outer * g.inner, threads, guard.device()), threads, 0, guard.stream()>>>(y.data<float>(), xp, g.outer,
                                                                                                                           g.n, g.inner, factor);
  }
  cudaCheckLaunch(attrs.op().c_str());
  return {y};
}

Tensors reduce_backward_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& dy = in[0];
  const Shape shape = reduce_backward_shape(attrs, dy);
  const ReduceGeometry g = reduce_geometry(attrs, shape);
  const double alpha = attrs.number("alpha");
  Tensor dx = Tensor::empty(shape, dy.dtype(), dy.device());
  CudaGuard guard(dy.device());
  const float* dyp = dy.data<float>();
  float* dxp = dx.data<float>();
  const int64_t n = g.n, inner = g.inner;
  launch_elementwise(dx.numel(), guard, attrs.op(), [=] __device__(int64_t i) {
    // i = (o * n + j) * inner + k  ->  dy[o * inner + k]
    dxp[i] = reduce_grad(dyp[(i / (n * inner)) * inner + i % inner], alpha);
  });
  return {dx};
}

Tensors reduce_max_backward_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 3);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  const Tensor& y = in[2];
  const ReduceGeometry g = reduce_max_backward_geometry(attrs, dy, x, y);
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (dx.numel() == 0) return {dx};
  CudaGuard guard(x.device());
  cudaCheck(cudaMemsetAsync(dx.raw(), 0, dx.nbytes(), guard.stream()), attrs.op().c_str());
  // Unlike the CPU kernel, a y that is not the maximum of x is not reported (that would need a
  // synchronising read-back): its gradient is dropped. kdsr-core always passes reduce_max's own output.
  constexpr int threads = 256;
  reduce_max_backward_kernel1<<<elementwise_blocks(g.outer * g.inner, threads, guard.device()), threads, 0, guard.stream()>>>(
      dx.data<float>(), dy.data<float>(), x.data<float>(), y.data<float>(), g.outer, g.n, g.inner);
  cudaCheckLaunch(attrs.op().c_str());
  return {dx};
}

KDSR_REGISTER_KERNEL("reduce_sum", "cuda", "cuda", ({DType::F32}), (reduce_cuda<false, false>));
KDSR_REGISTER_KERNEL("reduce_mean", "cuda", "cuda", ({DType::F32}), (reduce_cuda<false, true>));
KDSR_REGISTER_KERNEL("reduce_max", "cuda", "cuda", ({DType::F32}), (reduce_cuda<true, false>));
KDSR_REGISTER_KERNEL("reduce_backward", "cuda", "cuda", ({DType::F32}), reduce_backward_cuda);
KDSR_REGISTER_KERNEL("reduce_max_backward", "cuda", "cuda", ({DType::F32}), reduce_max_backward_cuda);

}  // namespace
}  // namespace kdsr
