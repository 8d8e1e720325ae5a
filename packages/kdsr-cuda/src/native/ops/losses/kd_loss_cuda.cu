// The distillation loss of KDSR on CUDA devices (see kd_loss_cpu.cc): with p = softmax(teacher / tau)
// and q = softmax(student / tau), loss = (1/B) sum_b KL(p_b || q_b); dstudent = dloss (q - p) / (tau B).
// One block per row; the per-row KL values are then added in row order (deterministic).
#include "../../cuda/deterministic_sum.cuh"
#include "../common/checks.h"
#include "../softmax/row_lse.cuh"

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
  for (int64_t i = threadIdx.x; i < features; i += blockDim.x) {
    const double log_p = t[i] * inv_tau - lse_t, log_q = s[i] * inv_tau - lse_s;
    kl += exp(log_p) * (log_p - log_q);
  }
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
  for (int64_t i = threadIdx.x; i < features; i += blockDim.x) {
    const double q = exp(s[i] * inv_tau - lse_s), p = exp(t[i] * inv_tau - lse_t);
    dstudent[blockIdx.x * features + i] = static_cast<float>(g * (q - p));
  }
}

// ----------------------------------------------------------------------------
// Kernel launchers

void check_pair(const std::string& op, const Tensor& student, const Tensor& teacher) {
  check_rank(op, student, 2, "student");
  check_rank(op, teacher, 2, "teacher");
  check_same_shape(op, student, teacher, "student", "teacher");
  KDSR_CHECK(student.dim(0) >= 1 && student.dim(1) >= 1, op, "student ", shape_str(student.shape()), " is empty");
}

double inv_tau_of(const Attrs& attrs) {
  double tau = attrs.number("tau");
  KDSR_CHECK(tau > 0, attrs.op(), "tau must be positive, got ", tau);
  return 1.0 / tau;
}

Tensors kd_loss_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& student = in[0];
  const Tensor& teacher = in[1];
  check_pair(attrs.op(), student, teacher);
  const double inv_tau = inv_tau_of(attrs);
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
  check_pair(attrs.op(), student, teacher);
  const double inv_tau = inv_tau_of(attrs);
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
