// LeakyReLU forward and backward on the CPU (formulas in leaky_relu.h, shared with the CUDA kernels).
#include "../common/checks.h"
#include "../common/elementwise_cpu.h"
#include "leaky_relu.h"

namespace kdsr {
namespace {

Tensors leaky_relu_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  double slope = attrs.number("negative_slope");
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    T s = static_cast<T>(slope);
    map_elements(x.numel(), yp, xp, [s](T v) { return leaky_relu_value(v, s); });
  });
  return {y};
}

Tensors leaky_relu_backward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  check_same_shape(attrs.op(), dy, x, "dy", "x");
  double slope = attrs.number("negative_slope");
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    const T* dyp = dy.data<T>();
    T* dxp = dx.data<T>();
    T s = static_cast<T>(slope);
    map_elements(x.numel(), dxp, dyp, xp, [s](T g, T v) { return leaky_relu_grad(g, v, s); });
  });
  return {dx};
}

KDSR_REGISTER_KERNEL("leaky_relu", "cpu", "reference", ({DType::F32, DType::F64}), leaky_relu_forward);
KDSR_REGISTER_KERNEL("leaky_relu_backward", "cpu", "reference", ({DType::F32, DType::F64}), leaky_relu_backward);

}  // namespace
}  // namespace kdsr
