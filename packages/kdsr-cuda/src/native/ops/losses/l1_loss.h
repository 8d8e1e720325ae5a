// l1_loss as the CPU and CUDA kernels share it: loss = mean |a - b| over all elements (shape [1]),
// summed in double; backward da = dloss * sign(a - b) / n, db = -da.
#pragma once
#include <cmath>

#include "../common/checks.h"
#include "../common/host_device.h"

namespace kdsr {

inline void check_l1_loss(const std::string& op, const Tensor& a, const Tensor& b) {
  KDSR_CHECK(a.defined() && b.defined(), op, "a and b are required");
  check_same_shape(op, a, b, "a", "b");
}

inline void check_l1_loss_backward(const std::string& op, const Tensor& dloss, const Tensor& a, const Tensor& b) {
  KDSR_CHECK(dloss.defined() && dloss.numel() == 1, op, "dloss must hold one value");
  check_l1_loss(op, a, b);
  KDSR_CHECK(dloss.dtype() == a.dtype(), op, "dloss and a must have the same dtype");
}

// The term of element (a, b) in the sum.
template <typename T>
KDSR_HOST_DEVICE double l1_term(T a, T b) {
  using std::fabs;
  return fabs(static_cast<double>(a) - static_cast<double>(b));
}

// da for one element: g = dloss / n with the sign of a - b (0 where they are equal).
template <typename T>
KDSR_HOST_DEVICE T l1_grad(T a, T b, T g) {
  const T d = a - b;
  return d > 0 ? g : d < 0 ? -g : T(0);
}

// g = dloss / n, formed in double.
template <typename T>
KDSR_HOST_DEVICE T l1_grad_scale(T dloss, int64_t n) {
  return static_cast<T>(static_cast<double>(dloss) / static_cast<double>(n));
}

}  // namespace kdsr
