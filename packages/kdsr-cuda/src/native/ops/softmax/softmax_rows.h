// softmax and log_softmax over the last dimension, as the CPU and CUDA kernels share them: the row
// length, and the per-element formulas, all in double (lse is the row's stable log-sum-exp):
//   softmax:      y = exp(x - lse(x)),  dx = y * (dy - sum(dy * y))
//   log_softmax:  y = x - lse(x),       dx = dy - exp(y) * sum(dy)
#pragma once
#include <cmath>

#include "../common/checks.h"
#include "../common/host_device.h"

namespace kdsr {

// The row length (last dimension) of x; x must have rank >= 1 and non-empty rows.
inline int64_t softmax_row_length(const std::string& op, const Tensor& x, const char* name) {
  KDSR_CHECK(x.defined(), op, name, " is required");
  KDSR_CHECK(x.rank() >= 1 && x.dim(-1) >= 1, op, name, " ", shape_str(x.shape()), " needs a non-empty last dimension");
  return x.dim(-1);
}

template <bool Log>
KDSR_HOST_DEVICE double softmax_value(double x, double lse) {
  using std::exp;
  return Log ? x - lse : exp(x - lse);
}

// The backward's row sum is over these terms: dy for log_softmax, dy * y for softmax.
template <bool Log>
KDSR_HOST_DEVICE double softmax_sum_term(double dy, double y) {
  return Log ? dy : dy * y;
}

template <bool Log>
KDSR_HOST_DEVICE double softmax_grad(double dy, double y, double sum) {
  using std::exp;
  return Log ? dy - exp(y) * sum : y * (dy - sum);
}

}  // namespace kdsr
