// LeakyReLU forward and backward on CUDA devices (formulas in leaky_relu.h, shared with the CPU kernels).
#include "../../cuda/cuda_common.h"
#include "../common/checks.h"
#include "leaky_relu.h"

namespace kdsr {
namespace {

// ----------------------------------------------------------------------------
// CUDA kernels

__global__ void leaky_relu_forward_kernel1(float* y, const float* x, float slope, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = leaky_relu_value(x[i], slope);
}

__global__ void leaky_relu_backward_kernel1(float* dx, const float* dy, const float* x, float slope, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dx[i] = leaky_relu_grad(dy[i], x[i], slope);
}

// ----------------------------------------------------------------------------
// Kernel launchers

Tensors leaky_relu_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.numel() == 0) return {y};
  CudaGuard guard(x.device());
  constexpr int threads = 256;
  leaky_relu_forward_kernel1<<<elementwise_blocks(x.numel(), threads, guard.device()), threads, 0, guard.stream()>>>(
      y.data<float>(), x.data<float>(), static_cast<float>(attrs.number("negative_slope")), x.numel());
  cudaCheckLaunch(attrs.op().c_str());
  return {y};
}

Tensors leaky_relu_backward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  check_same_shape(attrs.op(), dy, x, "dy", "x");
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.numel() == 0) return {dx};
  CudaGuard guard(x.device());
  constexpr int threads = 256;
  leaky_relu_backward_kernel1<<<elementwise_blocks(x.numel(), threads, guard.device()), threads, 0, guard.stream()>>>(
      dx.data<float>(), dy.data<float>(), x.data<float>(), static_cast<float>(attrs.number("negative_slope")), x.numel());
  cudaCheckLaunch(attrs.op().c_str());
  return {dx};
}

KDSR_REGISTER_KERNEL("leaky_relu", "cuda", "cuda", ({DType::F32}), leaky_relu_forward);
KDSR_REGISTER_KERNEL("leaky_relu_backward", "cuda", "cuda", ({DType::F32}), leaky_relu_backward);

}  // namespace
}  // namespace kdsr
