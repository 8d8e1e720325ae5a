// quantize(x, levels) = round(clamp(x, 0, 1) * levels) / levels with round half to even: the
// value an image takes when stored with `levels` + 1 grey levels (255: 8 bits). The product is
// formed in double, where it is exact for float32 inputs, so the rounding decision is exact.
#include <cmath>

#include "../common/checks.h"
#include "../common/elementwise_cpu.h"

namespace kdsr {
namespace {

Tensors quantize_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  KDSR_CHECK(x.defined(), attrs.op(), "x is required");
  const double levels = attrs.number("levels");
  KDSR_CHECK(levels > 0 && std::isfinite(levels), attrs.op(), "levels must be a positive number, got ", levels);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    map_elements(x.numel(), y.data<T>(), x.data<T>(), [levels](T value) {
      const double v = std::fmin(std::fmax(static_cast<double>(value), 0.0), 1.0);
      return static_cast<T>(std::nearbyint(v * levels) / levels);  // nearbyint: ties to even (the default rounding mode)
    });
  });
  return {y};
}

KDSR_REGISTER_KERNEL("quantize", "cpu", "reference", ({DType::F32, DType::F64}), quantize_forward);

}  // namespace
}  // namespace kdsr
