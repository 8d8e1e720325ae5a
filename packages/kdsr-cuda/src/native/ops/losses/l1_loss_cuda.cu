// L1 loss on CUDA devices (formulas and checks in l1_loss.h, shared with the CPU kernels): the mean
// is a deterministic double sum; the backward reads dloss on the device (no synchronisation).
#include "../../cuda/deterministic_sum.cuh"
#include "l1_loss.h"

namespace kdsr {
namespace {

Tensors l1_loss_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& a = in[0];
  const Tensor& b = in[1];
  check_l1_loss(attrs.op(), a, b);
  KDSR_CHECK(a.numel() > 0, attrs.op(), "a and b are empty");
  Tensor loss = Tensor::empty({1}, a.dtype(), a.device());
  CudaGuard guard(a.device());
  const float* ap = a.data<float>();
  const float* bp = b.data<float>();
  deterministic_sum(loss.data<float>(), a.numel(), 1.0 / static_cast<double>(a.numel()), a.device(), guard, attrs.op(),
                    [=] __device__(int64_t i) { return l1_term(ap[i], bp[i]); });
  return {loss};
}

Tensors l1_loss_backward_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 3);
  const Tensor& dloss = in[0];
  const Tensor& a = in[1];
  const Tensor& b = in[2];
  check_l1_loss_backward(attrs.op(), dloss, a, b);
  Tensor da = Tensor::empty(a.shape(), a.dtype(), a.device());
  Tensor db = Tensor::empty(a.shape(), a.dtype(), a.device());
  CudaGuard guard(a.device());
  const float* ap = a.data<float>();
  const float* bp = b.data<float>();
  const float* dl = dloss.data<float>();
  float* dap = da.data<float>();
  float* dbp = db.data<float>();
  const int64_t n = a.numel();
  launch_elementwise(n, guard, attrs.op(), [=] __device__(int64_t i) {
    const float v = l1_grad(ap[i], bp[i], l1_grad_scale(dl[0], n));
    dap[i] = v;
    dbp[i] = -v;
  });
  return {da, db};
}

KDSR_REGISTER_KERNEL("l1_loss", "cuda", "cuda", ({DType::F32}), l1_loss_cuda);
KDSR_REGISTER_KERNEL("l1_loss_backward", "cuda", "cuda", ({DType::F32}), l1_loss_backward_cuda);

}  // namespace
}  // namespace kdsr
