// clamp(x, min, max) = min(max(x, min), max) and its backward: dy where min < x < max, else 0
// (at the bounds themselves the gradient is taken as 0).
#include "../common/checks.h"
#include "../common/elementwise_cpu.h"

namespace kdsr {
namespace {

void bounds_of(const Attrs& attrs, double& lo, double& hi) {
  lo = attrs.number("min");
  hi = attrs.number("max");
  KDSR_CHECK(lo <= hi, attrs.op(), "min ", lo, " must not exceed max ", hi);
}

Tensors clamp_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  KDSR_CHECK(x.defined(), attrs.op(), "x is required");
  double lo, hi;
  bounds_of(attrs, lo, hi);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T l = static_cast<T>(lo), h = static_cast<T>(hi);
    map_elements(x.numel(), y.data<T>(), x.data<T>(), [l, h](T v) { return v < l ? l : v > h ? h : v; });
  });
  return {y};
}

Tensors clamp_backward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  KDSR_CHECK(dy.defined() && x.defined(), attrs.op(), "dy and x are required");
  check_same_shape(attrs.op(), dy, x, "dy", "x");
  double lo, hi;
  bounds_of(attrs, lo, hi);
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T l = static_cast<T>(lo), h = static_cast<T>(hi);
    map_elements(x.numel(), dx.data<T>(), dy.data<T>(), x.data<T>(), [l, h](T g, T v) { return v > l && v < h ? g : T(0); });
  });
  return {dx};
}

KDSR_REGISTER_KERNEL("clamp", "cpu", "reference", ({DType::F32, DType::F64}), clamp_forward);
KDSR_REGISTER_KERNEL("clamp_backward", "cpu", "reference", ({DType::F32, DType::F64}), clamp_backward);

}  // namespace
}  // namespace kdsr
