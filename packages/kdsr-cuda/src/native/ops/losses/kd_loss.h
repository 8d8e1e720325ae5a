// The knowledge-distillation loss of KDSR as the CPU and CUDA kernels share it. With
// p = softmax(teacher / tau), q = softmax(student / tau) per row of (B,F) inputs,
//   loss = (1/B) sum_b sum_i p_i (log p_i - log q_i)          (KL(p || q), "batchmean", no tau^2)
//   dstudent = dloss * (q - p) / (tau * B)                     (the teacher is a constant)
// log p and log q come from a stable log-sum-exp of the row, so p_i = 0 (underflow) contributes 0.
#pragma once
#include <cmath>

#include "../common/checks.h"
#include "../common/host_device.h"

namespace kdsr {

inline void check_kd_inputs(const std::string& op, const Tensor& student, const Tensor& teacher) {
  check_rank(op, student, 2, "student");
  check_rank(op, teacher, 2, "teacher");
  check_same_shape(op, student, teacher, "student", "teacher");
  KDSR_CHECK(student.dim(0) >= 1 && student.dim(1) >= 1, op, "student ", shape_str(student.shape()), " is empty");
}

inline double kd_tau(const Attrs& attrs) {
  const double tau = attrs.number("tau");
  KDSR_CHECK(tau > 0, attrs.op(), "tau must be positive, got ", tau);
  return tau;
}

// log p_i (or log q_i) of logit x in a row whose log-sum-exp of x / tau is lse.
template <typename T>
KDSR_HOST_DEVICE double kd_log_prob(T x, double inv_tau, double lse) {
  return x * inv_tau - lse;
}

// Element i's term of KL(p || q).
KDSR_HOST_DEVICE inline double kd_term(double log_p, double log_q) {
  using std::exp;
  return exp(log_p) * (log_p - log_q);
}

// Element i's gradient: g (q_i - p_i), g = dloss / (tau B).
KDSR_HOST_DEVICE inline double kd_grad(double g, double log_q, double log_p) {
  using std::exp;
  return g * (exp(log_q) - exp(log_p));
}

}  // namespace kdsr
