// softmax and log_softmax over the last dimension, and their backward, on CUDA devices (formulas in
// softmax_rows.h, shared with the CPU kernels): one block per row, row sums in double.
#include "row_lse.cuh"
#include "softmax_rows.h"

namespace kdsr {
namespace {

constexpr int kThreads = 256;

// ----------------------------------------------------------------------------
// CUDA kernels

template <bool Log>
__global__ void softmax_forward_kernel1(float* y, const float* x, int64_t n) {
  __shared__ float fscratch[32];
  __shared__ double dscratch[32];
  const float* xr = x + blockIdx.x * n;
  float* yr = y + blockIdx.x * n;
  const double lse = block_row_lse(xr, n, 1.0, fscratch, dscratch);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = static_cast<float>(softmax_value<Log>(xr[i], lse));
}

template <bool Log>
__global__ void softmax_backward_kernel1(float* dx, const float* dy, const float* y, int64_t n) {
  __shared__ double scratch[32];
  const float* dyr = dy + blockIdx.x * n;
  const float* yr = y + blockIdx.x * n;
  float* dxr = dx + blockIdx.x * n;
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += softmax_sum_term<Log>(dyr[i], yr[i]);
  s = block_sum(s, scratch);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) dxr[i] = static_cast<float>(softmax_grad<Log>(dyr[i], yr[i], s));
}

// ----------------------------------------------------------------------------
// Kernel launchers

template <bool Log>
Tensors softmax_forward_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  const int64_t n = softmax_row_length(attrs.op(), x, "x");
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  const int64_t rows = x.numel() / n;
  if (rows == 0) return {y};
  CudaGuard guard(x.device());
  softmax_forward_kernel1<Log><<<static_cast<unsigned int>(rows), kThreads, 0, guard.stream()>>>(y.data<float>(), x.data<float>(), n);
  cudaCheckLaunch(attrs.op().c_str());
  return {y};
}

template <bool Log>
Tensors softmax_backward_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& dy = in[0];
  const Tensor& y = in[1];
  const int64_t n = softmax_row_length(attrs.op(), y, "y");
  check_same_shape(attrs.op(), dy, y, "dy", "y");
  Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
  const int64_t rows = y.numel() / n;
  if (rows == 0) return {dx};
  CudaGuard guard(y.device());
  softmax_backward_kernel1<Log><<<static_cast<unsigned int>(rows), kThreads, 0, guard.stream()>>>(dx.data<float>(), dy.data<float>(), y.data<float>(), n);
  cudaCheckLaunch(attrs.op().c_str());
  return {dx};
}

KDSR_REGISTER_KERNEL("softmax", "cuda", "cuda", ({DType::F32}), softmax_forward_cuda<false>);
KDSR_REGISTER_KERNEL("log_softmax", "cuda", "cuda", ({DType::F32}), softmax_forward_cuda<true>);
KDSR_REGISTER_KERNEL("softmax_backward", "cuda", "cuda", ({DType::F32}), softmax_backward_cuda<false>);
KDSR_REGISTER_KERNEL("log_softmax_backward", "cuda", "cuda", ({DType::F32}), softmax_backward_cuda<true>);

}  // namespace
}  // namespace kdsr
