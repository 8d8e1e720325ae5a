// clamp and its backward on CUDA devices (formulas in clamp.h, shared with the CPU kernels).
#include "../../cuda/cuda_utils.cuh"
#include "clamp.h"

namespace kdsr {
namespace {

Tensors clamp_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  KDSR_CHECK(x.defined(), attrs.op(), "x is required");
  float lo, hi;
  clamp_bounds(attrs, lo, hi);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  CudaGuard guard(x.device());
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  launch_elementwise(x.numel(), guard, attrs.op(), [=] __device__(int64_t i) { yp[i] = clamp_value(xp[i], lo, hi); });
  return {y};
}

Tensors clamp_backward_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  KDSR_CHECK(dy.defined() && x.defined(), attrs.op(), "dy and x are required");
  check_same_shape(attrs.op(), dy, x, "dy", "x");
  float lo, hi;
  clamp_bounds(attrs, lo, hi);
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  CudaGuard guard(x.device());
  const float* xp = x.data<float>();
  const float* dyp = dy.data<float>();
  float* dxp = dx.data<float>();
  launch_elementwise(x.numel(), guard, attrs.op(), [=] __device__(int64_t i) { dxp[i] = clamp_grad(dyp[i], xp[i], lo, hi); });
  return {dx};
}

KDSR_REGISTER_KERNEL("clamp", "cuda", "cuda", ({DType::F32}), clamp_cuda);
KDSR_REGISTER_KERNEL("clamp_backward", "cuda", "cuda", ({DType::F32}), clamp_backward_cuda);

}  // namespace
}  // namespace kdsr
