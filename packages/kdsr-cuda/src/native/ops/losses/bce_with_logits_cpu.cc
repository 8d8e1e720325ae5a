// Binary cross-entropy with logits on the CPU (formulas and checks in bce_with_logits.h, shared with
// the CUDA kernels). The sum is a deterministic chunked parallel reduction in double.
#include "../../core/parallel.h"
#include "../common/parallel_reduce.h"
#include "bce_with_logits.h"

namespace kdsr {
namespace {

Tensors bce_with_logits_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& logits = in[0];
  KDSR_CHECK(logits.numel() > 0, attrs.op(), "logits are empty");
  const double t = bce_target(attrs);
  Tensor loss = Tensor::empty({1}, logits.dtype(), logits.device());
  dispatch_dtype(logits.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = logits.data<T>();
    const double sum = parallel_sum(logits.numel(), [&](int64_t i) { return bce_term(xp[i], t); });
    loss.data<T>()[0] = static_cast<T>(sum / static_cast<double>(logits.numel()));
  });
  return {loss};
}

Tensors bce_with_logits_backward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& dloss = in[0];
  const Tensor& logits = in[1];
  check_bce_backward(attrs.op(), dloss, logits);
  const double t = bce_target(attrs);
  Tensor dx = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
  dispatch_dtype(logits.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = logits.data<T>();
    T* dxp = dx.data<T>();
    const double g = static_cast<double>(dloss.data<T>()[0]) / static_cast<double>(logits.numel());
    parallel_for_range(logits.numel(), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; i++) dxp[i] = bce_grad(xp[i], t, g);
    });
  });
  return {dx};
}

KDSR_REGISTER_KERNEL("bce_with_logits", "cpu", "reference", ({DType::F32, DType::F64}), bce_with_logits_forward);
KDSR_REGISTER_KERNEL("bce_with_logits_backward", "cpu", "reference", ({DType::F32, DType::F64}), bce_with_logits_backward);

}  // namespace
}  // namespace kdsr
