// The distillation loss of KDSR on CUDA devices (formulas and checks in kd_loss.h, shared with the CPU
// kernels). One block per row; the per-row KL values are then added in row order (deterministic).
#include "../../cuda/deterministic_sum.cuh"
#include "../softmax/row_lse.cuh"
#include "kd_loss.h"

namespace kdsr {
namespace {

constexpr int kThreads = 256;

// ----------------------------------------------------------------------------
// CUDA kernels

__global__ void kd_loss_forward_kernel1(double* row_kl, const float* student, const float* teacher, int64_t features, double inv_tau) {
  __shared__ float fscratch[32];
  __shared__ double dscratch[32];
  const float* s = student + blockIdx.x * features;
  const float* t = teacher + blockIdx.x * features;
  const double lse_s = block_row_lse(s, features, inv_tau, fscratch, dscratch);
  const double lse_t = block_row_lse(t, features, inv_tau, fscratch, dscratch);
  double kl = 0.0;
  for (int64_t i = threadIdx.x; i < features; i += blockDim.x) kl += kd_term(kd_log_prob(t[i], inv_tau, lse_t), kd_log_prob(s[i], inv_tau, lse_s));
  kl = block_sum(kl, dscratch);
  if (threadIdx.x == 0) row_kl[blockIdx.x] = kl;
}

__global__ void kd_loss_backward_kernel1(float* dstudent, const float* dloss, const float* student, const float* teacher, int64_t features, double inv_tau,
                                         double batch) {
  __shared__ float fscratch[32];
  __shared__ double dscratch[32];
  const float* s = student + blockIdx.x * features;
  const float* t = teacher + blockIdx.x * features;
  const double lse_s = block_row_lse(s, features, inv_tau, fscratch, dscratch);
  const double lse_t = block_row_lse(t, features, inv_tau, fscratch, dscratch);
  const double g = static_cast<double>(dloss[0]) * inv_tau / batch;
  for (int64_t i = threadIdx.x; i < features; i += blockDim.x)
    dstudent[blockIdx.x * features + i] = static_cast<float>(kd_grad(g, kd_log_prob(s[i], inv_tau, lse_s), kd_log_prob(t[i], inv_tau, lse_t)));
}

// ----------------------------------------------------------------------------
// Kernel launchers

Tensors kd_loss_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& student = in[0];
  const Tensor& teacher = in[1];
  check_kd_inputs(attrs.op(), student, teacher);
  const double inv_tau = 1.0 / kd_tau(attrs);
  const int64_t batch = student.dim(0), features = student.dim(1);
  Tensor loss = Tensor::empty({1}, student.dtype(), student.device());
  Tensor row_kl = Tensor::empty({batch}, DType::F64, student.device());
  CudaGuard guard(student.device());
  kd_loss_forward_kernel1<<<static_cast<unsigned int>(batch), kThreads, 0, guard.stream()>>>(row_kl.data<double>(), student.data<float>(),
                                                                                             teacher.data<float>(), features, inv_tau);
  cudaCheckLaunch(attrs.op().c_str());
  sum_finish_kernel1<<<1, 1024, 0, guard.stream()>>>(loss.data<float>(), row_kl.data<double>(), static_cast<int>(batch), 1.0 / static_cast<double>(batch));
  cudaCheckLaunch(attrs.op().c_str());
  return {loss};
}

Tensors kd_loss_backward_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 3);
  const Tensor& dloss = in[0];
  const Tensor& student = in[1];
  const Tensor& teacher = in[2];
  KDSR_CHECK(dloss.defined() && dloss.numel() == 1, attrs.op(), "dloss must hold one value");
  check_kd_inputs(attrs.op(), student, teacher);
  const double inv_tau = 1.0 / kd_tau(attrs);
  const int64_t batch = student.dim(0), features = student.dim(1);
  Tensor dstudent = Tensor::empty(student.shape(), student.dtype(), student.device());
  CudaGuard guard(student.device());
  kd_loss_backward_kernel1<<<static_cast<unsigned int>(batch), kThreads, 0, guard.stream()>>>(
      dstudent.data<float>(), dloss.data<float>(), student.data<float>(), teacher.data<float>(), features, inv_tau, static_cast<double>(batch));
  cudaCheckLaunch(attrs.op().c_str());
  return {dstudent};
}

KDSR_REGISTER_KERNEL("kd_loss", "cuda", "cuda", ({DType::F32}), kd_loss_cuda);
KDSR_REGISTER_KERNEL("kd_loss_backward", "cuda", "cuda", ({DType::F32}), kd_loss_backward_cuda);

}  // namespace
}  // namespace kdsr
