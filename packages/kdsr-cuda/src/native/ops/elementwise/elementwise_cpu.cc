// Elementwise arithmetic on the CPU: add, sub, mul, scale, axpy (formulas in elementwise_ops.h,
// shared with the CUDA kernels).
#include "../common/elementwise_cpu.h"
#include "elementwise_ops.h"

namespace kdsr {
namespace {

// out[i] = f(a[i], b[i]) over two tensors of one shape.
template <typename F>
Tensor binary(const std::string& op, const Tensor& a, const Tensor& b, const char* a_name, const char* b_name, F f) {
  check_binary(op, a, b, a_name, b_name);
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  dispatch_dtype(a.dtype(), [&](auto zero) {
    using T = decltype(zero);
    map_elements(a.numel(), out.data<T>(), a.data<T>(), b.data<T>(), f);
  });
  return out;
}

Tensors add_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  return {binary(attrs.op(), in[0], in[1], "a", "b", AddOp{})};
}

Tensors sub_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  return {binary(attrs.op(), in[0], in[1], "a", "b", SubOp{})};
}

Tensors mul_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  return {binary(attrs.op(), in[0], in[1], "a", "b", MulOp{})};
}

Tensors axpy_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  return {binary(attrs.op(), in[0], in[1], "x", "y", AxpyOp{attrs.number("alpha")})};
}

Tensors scale_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  KDSR_CHECK(x.defined(), attrs.op(), "x is required");
  const double alpha = attrs.number("alpha");
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T a = static_cast<T>(alpha);
    map_elements(x.numel(), y.data<T>(), x.data<T>(), [a](T v) { return scale_value(v, a); });
  });
  return {y};
}

KDSR_REGISTER_KERNEL("add", "cpu", "reference", ({DType::F32, DType::F64}), add_forward);
KDSR_REGISTER_KERNEL("sub", "cpu", "reference", ({DType::F32, DType::F64}), sub_forward);
KDSR_REGISTER_KERNEL("mul", "cpu", "reference", ({DType::F32, DType::F64}), mul_forward);
KDSR_REGISTER_KERNEL("scale", "cpu", "reference", ({DType::F32, DType::F64}), scale_forward);
KDSR_REGISTER_KERNEL("axpy", "cpu", "reference", ({DType::F32, DType::F64}), axpy_forward);

}  // namespace
}  // namespace kdsr
