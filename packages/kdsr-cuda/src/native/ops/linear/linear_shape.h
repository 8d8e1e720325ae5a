// The geometry of a linear call, validated once for the reference and the oneDNN kernels.
#pragma once
#include "../common/checks.h"

namespace kdsr {

struct LinearShape {
  int64_t n, in, out;
};

// x (N,in), weight (out,in), and bias (out) when defined.
inline LinearShape linear_shape(const std::string& op, const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor()) {
  check_rank(op, x, 2, "x");
  check_rank(op, weight, 2, "weight");
  KDSR_CHECK(x.dtype() == weight.dtype(), op, "x and weight must have the same dtype");
  KDSR_CHECK(x.dim(1) == weight.dim(1), op, "x has ", x.dim(1), " features but weight ", shape_str(weight.shape()), " expects ", weight.dim(1));
  if (bias.defined()) {
    KDSR_CHECK(bias.rank() == 1 && bias.dim(0) == weight.dim(0), op, "bias must have shape [", weight.dim(0), "], got ", shape_str(bias.shape()));
    KDSR_CHECK(bias.dtype() == x.dtype(), op, "bias and x must have the same dtype");
  }
  return LinearShape{x.dim(0), x.dim(1), weight.dim(0)};
}

// dy of linear_backward: (N,out).
inline void check_linear_dy(const std::string& op, const Tensor& dy, const LinearShape& s, DType dtype) {
  check_rank(op, dy, 2, "dy");
  KDSR_CHECK(dy.dim(0) == s.n && dy.dim(1) == s.out, op, "dy must have shape [", s.n, ",", s.out, "], got ", shape_str(dy.shape()));
  KDSR_CHECK(dy.dtype() == dtype, op, "dy and x must have the same dtype");
}

}  // namespace kdsr
