// Elementwise arithmetic on CUDA devices: add, sub, mul, scale, axpy (formulas in elementwise_ops.h,
// shared with the CPU kernels).
#include "../../cuda/cuda_utils.cuh"
#include "elementwise_ops.h"

namespace kdsr {
namespace {

// y = f(a[i], b[i]) over two tensors of one shape.
template <typename F>
Tensor binary(const std::string& op, const Tensor& a, const Tensor& b, const char* a_name, const char* b_name, F f) {
  check_binary(op, a, b, a_name, b_name);
  Tensor y = Tensor::empty(a.shape(), a.dtype(), a.device());
  CudaGuard guard(a.device());
  const float* ap = a.data<float>();
  const float* bp = b.data<float>();
  float* yp = y.data<float>();
  launch_elementwise(a.numel(), guard, op, [=] __device__(int64_t i) { yp[i] = f(ap[i], bp[i]); });
  return y;
}

Tensors add_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  return {binary(attrs.op(), in[0], in[1], "a", "b", AddOp{})};
}

Tensors sub_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  return {binary(attrs.op(), in[0], in[1], "a", "b", SubOp{})};
}

Tensors mul_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  return {binary(attrs.op(), in[0], in[1], "a", "b", MulOp{})};
}

Tensors axpy_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  return {binary(attrs.op(), in[0], in[1], "x", "y", AxpyOp{attrs.number("alpha")})};
}

Tensors scale_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  KDSR_CHECK(x.defined(), attrs.op(), "x is required");
  const float alpha = static_cast<float>(attrs.number("alpha"));
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  CudaGuard guard(x.device());
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  launch_elementwise(x.numel(), guard, attrs.op(), [=] __device__(int64_t i) { yp[i] = scale_value(xp[i], alpha); });
  return {y};
}

KDSR_REGISTER_KERNEL("add", "cuda", "cuda", ({DType::F32}), add_cuda);
KDSR_REGISTER_KERNEL("sub", "cuda", "cuda", ({DType::F32}), sub_cuda);
KDSR_REGISTER_KERNEL("mul", "cuda", "cuda", ({DType::F32}), mul_cuda);
KDSR_REGISTER_KERNEL("axpy", "cuda", "cuda", ({DType::F32}), axpy_cuda);
KDSR_REGISTER_KERNEL("scale", "cuda", "cuda", ({DType::F32}), scale_cuda);

}  // namespace
}  // namespace kdsr
