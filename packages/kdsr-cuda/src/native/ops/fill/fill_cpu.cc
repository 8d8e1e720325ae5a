// fill: a new tensor of the given shape, dtype and device holding one value everywhere.
#include <algorithm>

#include "../../core/parallel.h"
#include "../common/checks.h"

namespace kdsr {
namespace {

Tensors fill_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 0);
  const Shape shape = attrs.integers("shape");
  for (int64_t d : shape) KDSR_CHECK(d >= 0, attrs.op(), "shape ", shape_str(shape), " has a negative dimension");
  Tensor y = Tensor::empty(shape, parse_dtype(attrs.string("dtype")), parse_device(attrs.string("device")));
  const double value = attrs.number("value");
  dispatch_dtype(y.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* yp = y.data<T>();
    const T v = static_cast<T>(value);
    parallel_for_range(y.numel(), [=](int64_t begin, int64_t end) { std::fill(yp + begin, yp + end, v); });
  });
  return {y};
}

KDSR_REGISTER_KERNEL("fill", "cpu", "reference", ({DType::F32, DType::F64}), fill_forward);

}  // namespace
}  // namespace kdsr
