// clamp and its backward on the CPU (formulas in clamp.h, shared with the CUDA kernels).
#include "../common/elementwise_cpu.h"
#include "clamp.h"

namespace kdsr {
namespace {

Tensors clamp_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  KDSR_CHECK(x.defined(), attrs.op(), "x is required");
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T lo, hi;
    clamp_bounds(attrs, lo, hi);
    map_elements(x.numel(), y.data<T>(), x.data<T>(), [lo, hi](T v) { return clamp_value(v, lo, hi); });
  });
  return {y};
}

Tensors clamp_backward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  KDSR_CHECK(dy.defined() && x.defined(), attrs.op(), "dy and x are required");
  check_same_shape(attrs.op(), dy, x, "dy", "x");
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T lo, hi;
    clamp_bounds(attrs, lo, hi);
    map_elements(x.numel(), dx.data<T>(), dy.data<T>(), x.data<T>(), [lo, hi](T g, T v) { return clamp_grad(g, v, lo, hi); });
  });
  return {dx};
}

KDSR_REGISTER_KERNEL("clamp", "cpu", "reference", ({DType::F32, DType::F64}), clamp_forward);
KDSR_REGISTER_KERNEL("clamp_backward", "cpu", "reference", ({DType::F32, DType::F64}), clamp_backward);

}  // namespace
}  // namespace kdsr
