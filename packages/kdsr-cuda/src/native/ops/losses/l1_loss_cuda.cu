// L1 loss on CUDA devices (see l1_loss_cpu.cc): mean |a - b| as a deterministic double sum;
// backward da = dloss * sign(a - b) / n, db = -da, with dloss read on the device (no synchronisation).
#include "../../cuda/deterministic_sum.cuh"
#include "../common/checks.h"

namespace kdsr {
namespace {

Tensors l1_loss_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& a = in[0];
  const Tensor& b = in[1];
  KDSR_CHECK(a.defined() && b.defined(), attrs.op(), "a and b are required");
  check_same_shape(attrs.op(), a, b, "a", "b");
  KDSR_CHECK(a.numel() > 0, attrs.op(), "a and b are empty");
  Tensor loss = Tensor::empty({1}, a.dtype(), a.device());
  CudaGuard guard(a.device());
  const float* ap = a.data<float>();
  const float* bp = b.data<float>();
  deterministic_sum(loss.data<float>(), a.numel(), 1.0 / static_cast<double>(a.numel()), a.device(), guard, attrs.op(),
                    [=] __device__(int64_t i) { return fabs(static_cast<double>(ap[i]) - static_cast<double>(bp[i])); });
  return {loss};
}

Tensors l1_loss_backward_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 3);
  const Tensor& dloss = in[0];
  const Tensor& a = in[1];
  const Tensor& b = in[2];
  KDSR_CHECK(dloss.defined() && dloss.numel() == 1, attrs.op(), "dloss must hold one value");
  KDSR_CHECK(a.defined() && b.defined(), attrs.op(), "a and b are required");
  check_same_shape(attrs.op(), a, b, "a", "b");
  Tensor da = Tensor::empty(a.shape(), a.dtype(), a.device());
  Tensor db = Tensor::empty(a.shape(), a.dtype(), a.device());
  CudaGuard guard(a.device());
  const float* ap = a.data<float>();
  const float* bp = b.data<float>();
  const float* dl = dloss.data<float>();
  float* dap = da.data<float>();
  float* dbp = db.data<float>();
  const double n = static_cast<double>(a.numel());
  launch_elementwise(a.numel(), guard, attrs.op(), [=] __device__(int64_t i) {
    const float g = static_cast<float>(static_cast<double>(dl[0]) / n);
    const float d = ap[i] - bp[i];
    const float v = d > 0 ? g : d < 0 ? -g : 0.0f;
    dap[i] = v;
    dbp[i] = -v;
  });
  return {da, db};
}

KDSR_REGISTER_KERNEL("l1_loss", "cuda", "cuda", ({DType::F32}), l1_loss_cuda);
KDSR_REGISTER_KERNEL("l1_loss_backward", "cuda", "cuda", ({DType::F32}), l1_loss_backward_cuda);

}  // namespace
}  // namespace kdsr
