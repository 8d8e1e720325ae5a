// L1 loss on the CPU (formulas and checks in l1_loss.h, shared with the CUDA kernels). The sum is a
// deterministic chunked parallel reduction in double (parallel_reduce.h).
#include "../../core/parallel.h"
#include "../common/parallel_reduce.h"
#include "l1_loss.h"

namespace kdsr {
namespace {

Tensors l1_loss_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& a = in[0];
  const Tensor& b = in[1];
  check_l1_loss(attrs.op(), a, b);
  KDSR_CHECK(a.numel() > 0, attrs.op(), "a and b are empty");
  Tensor loss = Tensor::empty({1}, a.dtype(), a.device());
  dispatch_dtype(a.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* ap = a.data<T>();
    const T* bp = b.data<T>();
    double sum = parallel_sum(a.numel(), [&](int64_t i) { return l1_term(ap[i], bp[i]); });
    loss.data<T>()[0] = static_cast<T>(sum / static_cast<double>(a.numel()));
  });
  return {loss};
}

Tensors l1_loss_backward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 3);
  const Tensor& dloss = in[0];
  const Tensor& a = in[1];
  const Tensor& b = in[2];
  check_l1_loss_backward(attrs.op(), dloss, a, b);
  Tensor da = Tensor::empty(a.shape(), a.dtype(), a.device());
  Tensor db = Tensor::empty(a.shape(), a.dtype(), a.device());
  dispatch_dtype(a.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* ap = a.data<T>();
    const T* bp = b.data<T>();
    T* dap = da.data<T>();
    T* dbp = db.data<T>();
    const T g = l1_grad_scale(dloss.data<T>()[0], a.numel());
    parallel_for_range(a.numel(), [=](int64_t begin, int64_t end) {
      const T scale = g;  // a local: a closure member read on one branch only stops vectorisation
      for (int64_t i = begin; i < end; i++) {
        const T v = l1_grad(ap[i], bp[i], scale);
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
