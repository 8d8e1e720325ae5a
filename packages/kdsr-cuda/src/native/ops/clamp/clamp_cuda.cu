// clamp and its backward on CUDA devices (see clamp_cpu.cc): y = min(max(x, min), max);
// dx = dy where min < x < max, else 0.
#include "../../cuda/cuda_utils.cuh"
#include "../common/checks.h"

namespace kdsr {
namespace {

void bounds(const Attrs& attrs, float& lo, float& hi) {
  double min = attrs.number("min"), max = attrs.number("max");
  KDSR_CHECK(min <= max, attrs.op(), "min ", min, " must not exceed max ", max);
  lo = static_cast<float>(min);
  hi = static_cast<float>(max);
}

Tensors clamp_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  KDSR_CHECK(x.defined(), attrs.op(), "x is required");
  float lo, hi;
  bounds(attrs, lo, hi);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  CudaGuard guard(x.device());
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  // Written as comparisons (not fminf/fmaxf) so that a NaN stays NaN, as std::min/std::max leave it on the CPU.
  launch_elementwise(x.numel(), guard, attrs.op(), [=] __device__(int64_t i) {
    float v = xp[i];
    v = v < lo ? lo : v;
    yp[i] = v > hi ? hi : v;
  });
  return {y};
}

Tensors clamp_backward_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  KDSR_CHECK(dy.defined() && x.defined(), attrs.op(), "dy and x are required");
  check_same_shape(attrs.op(), dy, x, "dy", "x");
  float lo, hi;
  bounds(attrs, lo, hi);
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  CudaGuard guard(x.device());
  const float* xp = x.data<float>();
  const float* dyp = dy.data<float>();
  float* dxp = dx.data<float>();
  launch_elementwise(x.numel(), guard, attrs.op(), [=] __device__(int64_t i) { dxp[i] = xp[i] > lo && xp[i] < hi ? dyp[i] : 0.0f; });
  return {dx};
}

KDSR_REGISTER_KERNEL("clamp", "cuda", "cuda", ({DType::F32}), clamp_cuda);
KDSR_REGISTER_KERNEL("clamp_backward", "cuda", "cuda", ({DType::F32}), clamp_backward_cuda);

}  // namespace
}  // namespace kdsr
