// bce_with_logits as the CPU and CUDA kernels share it: loss = mean over all elements of
// max(x, 0) - x t + log(1 + exp(-|x|)) with a constant target t (1 "real", 0 "fake"), shape [1],
// summed in double; backward dx = dloss * (sigmoid(x) - t) / n. The stable forms keep logits of
// +-40 finite and exact.
#pragma once
#include <cmath>

#include "../common/checks.h"
#include "../common/host_device.h"

namespace kdsr {

inline double bce_target(const Attrs& attrs) {
  const double t = attrs.number("target");
  KDSR_CHECK(t >= 0.0 && t <= 1.0, attrs.op(), "target must be in [0, 1], got ", t);
  return t;
}

inline void check_bce_backward(const std::string& op, const Tensor& dloss, const Tensor& logits) {
  KDSR_CHECK(dloss.defined() && dloss.numel() == 1, op, "dloss must hold one value");
  KDSR_CHECK(dloss.dtype() == logits.dtype(), op, "dloss and logits must have the same dtype");
}

template <typename T>
KDSR_HOST_DEVICE double bce_term(T logit, double t) {
  using std::exp;
  using std::fabs;
  using std::log1p;
  const double x = static_cast<double>(logit);
  return (x > 0 ? x : 0.0) - x * t + log1p(exp(-fabs(x)));
}

// dx for one element: g * (sigmoid(x) - t), g = dloss / n.
template <typename T>
KDSR_HOST_DEVICE T bce_grad(T logit, double t, double g) {
  using std::exp;
  const double x = static_cast<double>(logit);
  const double sigmoid = x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
  return static_cast<T>(g * (sigmoid - t));
}

}  // namespace kdsr
