// quantize on the CPU (the formula is in quantize_value.h, shared with the CUDA kernel).
#include "../common/elementwise_cpu.h"
#include "quantize_value.h"

namespace kdsr {
namespace {

Tensors quantize_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  KDSR_CHECK(x.defined(), attrs.op(), "x is required");
  const double levels = quantize_levels(attrs);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    map_elements(x.numel(), y.data<T>(), x.data<T>(), [levels](T v) { return quantize_value(v, levels); });
  });
  return {y};
}

KDSR_REGISTER_KERNEL("quantize", "cpu", "reference", ({DType::F32, DType::F64}), quantize_forward);

}  // namespace
}  // namespace kdsr
