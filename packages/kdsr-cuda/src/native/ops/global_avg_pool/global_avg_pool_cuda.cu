// Global average pooling and its backward on CUDA devices (checks and the gradient formula in
// global_avg_pool_shapes.h, shared with the CPU kernels): y[b, c] = mean over the plane.
#include "../../cuda/cuda_utils.cuh"
#include "global_avg_pool_shapes.h"

namespace kdsr {
namespace {

// ----------------------------------------------------------------------------
// CUDA kernels

// One block per (b, c) plane: a strided sum in double, then a block reduction (fixed order).
__global__ void global_avg_pool_forward_kernel1(float* y, const float* x, int64_t plane) {
  __shared__ double scratch[32];
  const float* xp = x + blockIdx.x * plane;
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < plane; i += blockDim.x) s += xp[i];
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) y[blockIdx.x] = static_cast<float>(s / static_cast<double>(plane));
}

// ----------------------------------------------------------------------------
// Kernel launchers

Tensors global_avg_pool_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  const int64_t plane = pooled_plane(attrs.op(), x);
  Tensor y = Tensor::empty({x.dim(0), x.dim(1)}, x.dtype(), x.device());
  if (y.numel() == 0) return {y};
  CudaGuard guard(x.device());
  global_avg_pool_forward_kernel1<<<static_cast<unsigned int>(y.numel()), 256, 0, guard.stream()>>>(y.data<float>(), x.data<float>(), plane);
  cudaCheckLaunch(attrs.op().c_str());
  return {y};
}

Tensors global_avg_pool_backward_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& dy = in[0];
  Tensor dx = Tensor::empty(pool_backward_shape(attrs, dy), dy.dtype(), dy.device());
  CudaGuard guard(dy.device());
  const float* dyp = dy.data<float>();
  float* dxp = dx.data<float>();
  const int64_t plane = dx.dim(2) * dx.dim(3);
  launch_elementwise(dx.numel(), guard, attrs.op(), [=] __device__(int64_t i) { dxp[i] = pool_grad(dyp[i / plane], plane); });
  return {dx};
}

KDSR_REGISTER_KERNEL("global_avg_pool", "cuda", "cuda", ({DType::F32}), global_avg_pool_cuda);
KDSR_REGISTER_KERNEL("global_avg_pool_backward", "cuda", "cuda", ({DType::F32}), global_avg_pool_backward_cuda);

}  // namespace
}  // namespace kdsr
