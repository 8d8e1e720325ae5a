// quantize on CUDA devices (the formula is in quantize_value.h, shared with the CPU kernel).
#include "../../cuda/cuda_utils.cuh"
#include "quantize_value.h"

namespace kdsr {
namespace {

Tensors quantize_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  KDSR_CHECK(x.defined(), attrs.op(), "x is required");
  const double levels = quantize_levels(attrs);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  CudaGuard guard(x.device());
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  launch_elementwise(x.numel(), guard, attrs.op(), [=] __device__(int64_t i) { yp[i] = quantize_value(xp[i], levels); });
  return {y};
}

KDSR_REGISTER_KERNEL("quantize", "cuda", "cuda", ({DType::F32}), quantize_cuda);

}  // namespace
}  // namespace kdsr
