// Binary cross-entropy with logits on CUDA devices (formulas and checks in bce_with_logits.h, shared
// with the CPU kernels): the mean is a deterministic double sum; the backward reads dloss on the device.
#include "../../cuda/deterministic_sum.cuh"
#include "bce_with_logits.h"

namespace kdsr {
namespace {

Tensors bce_with_logits_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& logits = in[0];
  KDSR_CHECK(logits.numel() > 0, attrs.op(), "logits are empty");
  const double t = bce_target(attrs);
  Tensor loss = Tensor::empty({1}, logits.dtype(), logits.device());
  CudaGuard guard(logits.device());
  const float* xp = logits.data<float>();
  deterministic_sum(loss.data<float>(), logits.numel(), 1.0 / static_cast<double>(logits.numel()), logits.device(), guard, attrs.op(),
                    [=] __device__(int64_t i) { return bce_term(xp[i], t); });
  return {loss};
}

Tensors bce_with_logits_backward_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& dloss = in[0];
  const Tensor& logits = in[1];
  check_bce_backward(attrs.op(), dloss, logits);
  const double t = bce_target(attrs);
  Tensor dx = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
  CudaGuard guard(logits.device());
  const float* xp = logits.data<float>();
  const float* dl = dloss.data<float>();
  float* dxp = dx.data<float>();
  const double n = static_cast<double>(logits.numel());
  launch_elementwise(logits.numel(), guard, attrs.op(), [=] __device__(int64_t i) { dxp[i] = bce_grad(xp[i], t, static_cast<double>(dl[0]) / n); });
  return {dx};
}

KDSR_REGISTER_KERNEL("bce_with_logits", "cuda", "cuda", ({DType::F32}), bce_with_logits_cuda);
KDSR_REGISTER_KERNEL("bce_with_logits_backward", "cuda", "cuda", ({DType::F32}), bce_with_logits_backward_cuda);

}  // namespace
}  // namespace kdsr
