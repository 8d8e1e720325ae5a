// quantize on CUDA devices (see quantize_cpu.cc): round(clamp(x, 0, 1) * levels) / levels, ties to
// even, formed in double exactly as on the CPU so both round the same way.
#include <cmath>

#include "../../cuda/cuda_utils.cuh"
#include "../common/checks.h"

namespace kdsr {
namespace {

Tensors quantize_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  KDSR_CHECK(x.defined(), attrs.op(), "x is required");
  const double levels = attrs.number("levels");
  KDSR_CHECK(levels > 0 && std::isfinite(levels), attrs.op(), "levels must be a positive number, got ", levels);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  CudaGuard guard(x.device());
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  launch_elementwise(x.numel(), guard, attrs.op(), [=] __device__(int64_t i) {
    double v = fmin(fmax(static_cast<double>(xp[i]), 0.0), 1.0);
    yp[i] = static_cast<float>(rint(v * levels) / levels);  // rint: round half to even
  });
  return {y};
}

KDSR_REGISTER_KERNEL("quantize", "cuda", "cuda", ({DType::F32}), quantize_cuda);

}  // namespace
}  // namespace kdsr
