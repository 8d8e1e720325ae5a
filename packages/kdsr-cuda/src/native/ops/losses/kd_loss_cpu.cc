// The knowledge-distillation loss of KDSR on the CPU (formulas and checks in kd_loss.h, shared with
// the CUDA kernels). Rows are computed in parallel; the batch sum is taken in row order (deterministic).
#include <vector>

#include "../../core/parallel.h"
#include "../softmax/log_sum_exp.h"
#include "kd_loss.h"

namespace kdsr {
namespace {

Tensors kd_loss_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& student = in[0];
  const Tensor& teacher = in[1];
  check_kd_inputs(attrs.op(), student, teacher);
  const double inv_tau = 1.0 / kd_tau(attrs);
  const int64_t batch = student.dim(0), features = student.dim(1);
  Tensor loss = Tensor::empty({1}, student.dtype(), student.device());
  dispatch_dtype(student.dtype(), [&](auto zero) {
    using T = decltype(zero);
    std::vector<double> row_kl(static_cast<size_t>(batch));
    parallel_for(batch, [&](int64_t b) {
      const T* s = student.data<T>() + b * features;
      const T* t = teacher.data<T>() + b * features;
      const double lse_s = log_sum_exp(s, features, inv_tau), lse_t = log_sum_exp(t, features, inv_tau);
      double kl = 0;
      for (int64_t i = 0; i < features; i++) kl += kd_term(kd_log_prob(t[i], inv_tau, lse_t), kd_log_prob(s[i], inv_tau, lse_s));
      row_kl[b] = kl;
    }, grain_for(features));
    double total = 0;
    for (double kl : row_kl) total += kl;
    loss.data<T>()[0] = static_cast<T>(total / static_cast<double>(batch));
  });
  return {loss};
}

Tensors kd_loss_backward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 3);
  const Tensor& dloss = in[0];
  const Tensor& student = in[1];
  const Tensor& teacher = in[2];
  KDSR_CHECK(dloss.defined() && dloss.numel() == 1, attrs.op(), "dloss must hold one value");
  check_kd_inputs(attrs.op(), student, teacher);
  KDSR_CHECK(dloss.dtype() == student.dtype(), attrs.op(), "dloss and student must have the same dtype");
  const double tau = kd_tau(attrs), inv_tau = 1.0 / tau;
  const int64_t batch = student.dim(0), features = student.dim(1);
  Tensor dstudent = Tensor::empty(student.shape(), student.dtype(), student.device());
  dispatch_dtype(student.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const double g = static_cast<double>(dloss.data<T>()[0]) / (tau * static_cast<double>(batch));
    parallel_for(batch, [&](int64_t b) {
      const T* s = student.data<T>() + b * features;
      const T* t = teacher.data<T>() + b * features;
      T* out = dstudent.data<T>() + b * features;
      const double lse_s = log_sum_exp(s, features, inv_tau), lse_t = log_sum_exp(t, features, inv_tau);
      for (int64_t i = 0; i < features; i++) out[i] = static_cast<T>(kd_grad(g, kd_log_prob(s[i], inv_tau, lse_s), kd_log_prob(t[i], inv_tau, lse_t)));
    }, grain_for(features));
  });
  return {dstudent};
}

KDSR_REGISTER_KERNEL("kd_loss", "cpu", "reference", ({DType::F32, DType::F64}), kd_loss_forward);
KDSR_REGISTER_KERNEL("kd_loss_backward", "cpu", "reference", ({DType::F32, DType::F64}), kd_loss_backward);

}  // namespace
}  // namespace kdsr
