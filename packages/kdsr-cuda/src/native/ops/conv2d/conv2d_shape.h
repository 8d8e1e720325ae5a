// The geometry of a conv2d call, validated once for the reference and the oneDNN kernels.
#pragma once
#include "../common/checks.h"

namespace kdsr {

struct Conv2dShape {
  int64_t batch, cin, cout, h, w, k;
  int64_t pad() const { return k / 2; }
};

// x (B,Cin,H,W), weight (Cout,Cin,k,k) with odd k, and bias (Cout) when defined.
inline Conv2dShape conv2d_shape(const std::string& op, const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor()) {
  check_rank(op, x, 4, "x");
  check_rank(op, weight, 4, "weight");
  KDSR_CHECK(x.dtype() == weight.dtype(), op, "x and weight must have the same dtype");
  KDSR_CHECK(weight.dim(1) == x.dim(1), op, "x has ", x.dim(1), " channels but weight ", shape_str(weight.shape()), " expects ", weight.dim(1));
  KDSR_CHECK(weight.dim(2) == weight.dim(3) && weight.dim(2) % 2 == 1, op, "weight must hold square kernels of odd size, got ", shape_str(weight.shape()));
  if (bias.defined()) {
    KDSR_CHECK(bias.rank() == 1 && bias.dim(0) == weight.dim(0), op, "bias must have shape [", weight.dim(0), "], got ", shape_str(bias.shape()));
    KDSR_CHECK(bias.dtype() == x.dtype(), op, "bias and x must have the same dtype");
  }
  return Conv2dShape{x.dim(0), x.dim(1), weight.dim(0), x.dim(2), x.dim(3), weight.dim(2)};
}

// dy of conv2d_backward: (B,Cout,H,W).
inline void check_conv2d_dy(const std::string& op, const Tensor& dy, const Conv2dShape& s, DType dtype) {
  check_rank(op, dy, 4, "dy");
  KDSR_CHECK(dy.dim(0) == s.batch && dy.dim(1) == s.cout && dy.dim(2) == s.h && dy.dim(3) == s.w, op, "dy must have shape [", s.batch, ",", s.cout,
             ",", s.h, ",", s.w, "], got ", shape_str(dy.shape()));
  KDSR_CHECK(dy.dtype() == dtype, op, "dy and x must have the same dtype");
}

}  // namespace kdsr
