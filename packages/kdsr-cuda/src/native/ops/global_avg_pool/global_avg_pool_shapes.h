// global_avg_pool (B,C,H,W) -> (B,C) and its backward as the CPU and CUDA kernels share them: the
// checks, and the gradient dx[b,c,h,w] = dy[b,c] / (H*W) formed in double.
#pragma once
#include "../common/checks.h"
#include "../common/host_device.h"

namespace kdsr {

// H*W of x, which must be (B,C,H,W) with pixels.
inline int64_t pooled_plane(const std::string& op, const Tensor& x) {
  check_rank(op, x, 4, "x");
  const int64_t plane = x.dim(2) * x.dim(3);
  KDSR_CHECK(plane > 0, op, "x ", shape_str(x.shape()), " has no pixels to average");
  return plane;
}

// dx's shape (B,C,H,W) for dy (B,C) and the attributes height and width.
inline Shape pool_backward_shape(const Attrs& attrs, const Tensor& dy) {
  check_rank(attrs.op(), dy, 2, "dy");
  const int64_t height = attrs.integer("height"), width = attrs.integer("width");
  KDSR_CHECK(height >= 1 && width >= 1, attrs.op(), "height and width must be positive, got ", height, " and ", width);
  return {dy.dim(0), dy.dim(1), height, width};
}

template <typename T>
KDSR_HOST_DEVICE T pool_grad(T dy, int64_t plane) {
  return static_cast<T>(static_cast<double>(dy) / static_cast<double>(plane));
}

}  // namespace kdsr
