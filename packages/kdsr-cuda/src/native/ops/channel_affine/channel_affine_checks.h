// The input checks of channel_affine and its backward, shared by the CPU and CUDA kernels:
// x (B,C,H,W) and per-channel vectors of length C, of x's dtype.
#pragma once
#include "../common/checks.h"

namespace kdsr {

inline void check_channel_vector(const std::string& op, const Tensor& x, const Tensor& v, const char* name) {
  check_rank(op, v, 1, name);
  KDSR_CHECK(v.dim(0) == x.dim(1), op, name, " ", shape_str(v.shape()), " must have one entry per channel of x ", shape_str(x.shape()));
  KDSR_CHECK(v.dtype() == x.dtype(), op, name, " and x must have the same dtype");
}

inline void check_channel_affine(const std::string& op, const Tensor& x, const Tensor& scale, const Tensor& shift) {
  check_rank(op, x, 4, "x");
  check_channel_vector(op, x, scale, "scale");
  check_channel_vector(op, x, shift, "shift");
}

inline void check_channel_affine_backward(const std::string& op, const Tensor& dy, const Tensor& x, const Tensor& scale) {
  check_rank(op, x, 4, "x");
  check_same_shape(op, dy, x, "dy", "x");
  check_channel_vector(op, x, scale, "scale");
}

}  // namespace kdsr
