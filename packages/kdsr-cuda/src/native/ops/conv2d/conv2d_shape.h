// The geometry of a conv2d call, validated once for the reference, oneDNN and cuDNN kernels.
#pragma once
#include "../common/checks.h"

namespace kdsr {

// Square k x k kernels; output oh = (h + 2 pad - k) / stride + 1 (floor), likewise ow.
struct Conv2dShape {
  int64_t batch, cin, cout, h, w, k, stride, pad, oh, ow;
};

// x (B,Cin,H,W), weight (Cout,Cin,k,k), and bias (Cout) when defined. Attributes `stride` (default 1)
// and `padding` (zero padding, default k/2, which then requires an odd k: the "same" convolution).
inline Conv2dShape conv2d_shape(const Attrs& attrs, const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor()) {
  const std::string& op = attrs.op();
  check_rank(op, x, 4, "x");
  check_rank(op, weight, 4, "weight");
  KDSR_CHECK(x.dtype() == weight.dtype(), op, "x and weight must have the same dtype");
  KDSR_CHECK(weight.dim(1) == x.dim(1), op, "x has ", x.dim(1), " channels but weight ", shape_str(weight.shape()), " expects ", weight.dim(1));
  const int64_t k = weight.dim(2);
  const bool explicit_pad = attrs.has("padding");
  if (explicit_pad)
    KDSR_CHECK(weight.dim(3) == k && k >= 1, op, "weight must hold square kernels, got ", shape_str(weight.shape()));
  else
    KDSR_CHECK(weight.dim(3) == k && k % 2 == 1, op, "weight must hold square kernels of odd size, got ", shape_str(weight.shape()));
  const int64_t stride = attrs.has("stride") ? attrs.integer("stride") : 1;
  const int64_t pad = explicit_pad ? attrs.integer("padding") : k / 2;
  KDSR_CHECK(stride >= 1, op, "stride must be at least 1, got ", stride);
  KDSR_CHECK(pad >= 0 && pad < k, op, "padding must be in [0, ", k - 1, "] for ", k, "x", k, " kernels, got ", pad);
  KDSR_CHECK(!explicit_pad || (x.dim(2) + 2 * pad >= k && x.dim(3) + 2 * pad >= k), op, "x ", shape_str(x.shape()), " is smaller than the ", k, "x", k, " kernel with padding ", pad);
  if (bias.defined()) {
    KDSR_CHECK(bias.rank() == 1 && bias.dim(0) == weight.dim(0), op, "bias must have shape [", weight.dim(0), "], got ", shape_str(bias.shape()));
    KDSR_CHECK(bias.dtype() == x.dtype(), op, "bias and x must have the same dtype");
  }
  const int64_t oh = (x.dim(2) + 2 * pad - k) / stride + 1, ow = (x.dim(3) + 2 * pad - k) / stride + 1;
  return Conv2dShape{x.dim(0), x.dim(1), weight.dim(0), x.dim(2), x.dim(3), k, stride, pad, oh, ow};
}

// dy of conv2d_backward: (B,Cout,OH,OW).
inline void check_conv2d_dy(const std::string& op, const Tensor& dy, const Conv2dShape& s, DType dtype) {
  check_rank(op, dy, 4, "dy");
  KDSR_CHECK(dy.dim(0) == s.batch && dy.dim(1) == s.cout && dy.dim(2) == s.oh && dy.dim(3) == s.ow, op, "dy must have shape [", s.batch, ",", s.cout,
             ",", s.oh, ",", s.ow, "], got ", shape_str(dy.shape()));
  KDSR_CHECK(dy.dtype() == dtype, op, "dy and x must have the same dtype");
}

}  // namespace kdsr
