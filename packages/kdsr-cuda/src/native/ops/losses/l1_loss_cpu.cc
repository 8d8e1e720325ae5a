// L1 loss: mean |a - b| over all elements, shape [1]; backward da = dloss * sign(a - b) / n, db = -da.
// The sum is a deterministic chunked parallel reduction in double (parallel_reduce.h).
#include "../../core/parallel.h"
#include "../common/checks.h"
#include "../common/parallel_reduce.h"

namespace kdsr {
namespace {

Tensors l1_loss_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& a = in[0];
  const Tensor& b = in[1];
  KDSR_CHECK(a.defined() && b.defined(), attrs.op(), "a and b are required");
  check_same_shape(attrs.op(), a, b, "a", "b");
  KDSR_CHECK(a.numel() > 0, attrs.op(), "a and b are empty");
  Tensor loss = Tensor::empty({1}, a.dtype(), a.device());
  dispatch_dtype(a.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* ap = a.data<T>();
    const T* bp = b.data<T>();
    double sum = parallel_sum(a.numel(), [&](int64_t i) { return std::abs(static_cast<double>(ap[i]) - static_cast<double>(bp[i])); });
    loss.data<T>()[0] = static_cast<T>(sum / static_cast<double>(a.numel()));
  });
  return {loss};
}

Tensors l1_loss_backward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 3);
  const Tensor& dloss = in[0];
  const Tensor& a = in[1];
  const Tensor& b = in[2];
  KDSR_CHECK(dloss.defined() && dloss.numel() == 1, attrs.op(), "dloss must hold one value");
  KDSR_CHECK(a.defined() && b.defined(), attrs.op(), "a and b are required");
  check_same_shape(attrs.op(), a, b, "a", "b");
  KDSR_CHECK(dloss.dtype() == a.dtype(), attrs.op(), "dloss and a must have the same dtype");
  Tensor da = Tensor::empty(a.shape(), a.dtype(), a.device());
  Tensor db = Tensor::empty(a.shape(), a.dtype(), a.device());
  dispatch_dtype(a.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* ap = a.data<T>();
    const T* bp = b.data<T>();
    T* dap = da.data<T>();
    T* dbp = db.data<T>();
    const T g = static_cast<T>(static_cast<double>(dloss.data<T>()[0]) / static_cast<double>(a.numel()));
    parallel_for_range(a.numel(), [=](int64_t begin, int64_t end) {
      const T pos = g, neg = -g;  // locals: closure members read on one branch only stop vectorisation
      for (int64_t i = begin; i < end; i++) {
        const T d = ap[i] - bp[i];
        const T v = d > 0 ? pos : d < 0 ? neg : T(0);
        dap[i] = v;
        dbp[i] = -v;
      }
    });
  });
  return {da, db};
}

KDSR_REGISTER_KERNEL("l1_loss", "cpu", "reference", ({DType::F32, DType::F64}), l1_loss_forward);
KDSR_REGISTER_KERNEL("l1_loss_backward", "cpu", "reference", ({DType::F32, DType::F64}), l1_loss_backward);

}  // namespace
}  // namespace kdsr
