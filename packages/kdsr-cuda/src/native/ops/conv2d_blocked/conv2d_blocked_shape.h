// The geometry of a conv2d_blocked call, validated once for the reference and oneDNN kernels.
#pragma once
#include "../common/blocked_layout.h"

namespace kdsr {

struct Conv2dBlockedShape {
  BlockedShape in, out;
  int64_t k;
  bool has_bias, has_residual, fused;  // fused: LeakyReLU(slope)
  double slope;
};

// Inputs x (blocked, Cin channels), weight (Cout,Cin,k,k) with odd k, bias (Cout)?, residual (the
// output's blocked shape)?; attributes `block` (the output's channel block) and `negative_slope`?,
// exclusive with the residual (oneDNN runs LeakyReLU followed by a sum only in its reference kernel,
// thousands of times slower).
inline Conv2dBlockedShape conv2d_blocked_shape(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 4);
  const Tensor& x = in[0];
  const Tensor& weight = in[1];
  const Tensor& bias = in[2];
  const Tensor& residual = in[3];
  check_rank(op, weight, 4, "weight");
  const int64_t k = weight.dim(2);
  KDSR_CHECK(weight.dim(3) == k && k % 2 == 1, op, "weight must hold square kernels of odd size, got ", shape_str(weight.shape()));
  const BlockedShape s_in = blocked_shape_of(op, x, weight.dim(1), "x");
  KDSR_CHECK(x.dtype() == weight.dtype(), op, "x and weight must have the same dtype");
  const BlockedShape s_out = blocked_shape(s_in.batch, weight.dim(0), s_in.height, s_in.width, checked_block(op, attrs));
  if (bias.defined()) {
    KDSR_CHECK(bias.rank() == 1 && bias.dim(0) == weight.dim(0), op, "bias must have shape [", weight.dim(0), "], got ", shape_str(bias.shape()));
    KDSR_CHECK(bias.dtype() == x.dtype(), op, "bias and x must have the same dtype");
  }
  if (residual.defined()) {
    KDSR_CHECK(residual.shape() == s_out.shape(), op, "residual must have the output's shape ", shape_str(s_out.shape()), ", got ", shape_str(residual.shape()));
    KDSR_CHECK(residual.dtype() == x.dtype(), op, "residual and x must have the same dtype");
  }
  const bool fused = attrs.has("negative_slope");
  KDSR_CHECK(!(fused && residual.defined()), op, "negative_slope and residual cannot both be given (LeakyReLU, or a residual add)");
  return Conv2dBlockedShape{s_in, s_out, k, bias.defined(), residual.defined(), fused, attrs.number_or("negative_slope", 0)};
}

// The output: the residual itself when given (the result is written over it), else a new tensor.
inline Tensor conv2d_blocked_output(const Tensors& in, const Conv2dBlockedShape& s) {
  return s.has_residual ? in[3] : Tensor::empty(s.out.shape(), in[0].dtype(), in[0].device());
}

}  // namespace kdsr
