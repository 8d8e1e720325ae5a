// 2x2 max-pooling, stride 2, no padding, floor mode (an odd last row / column is dropped), as the CPU
// and CUDA kernels share it. The gradient goes to the window's maximum (the first one in row-major
// order on a tie); the backward gathers it per input element, recomputing the window's argmax.
#pragma once
#include "../common/checks.h"
#include "../common/host_device.h"

namespace kdsr {

inline void check_max_pool_input(const std::string& op, const Tensor& x) {
  check_rank(op, x, 4, "x");
  KDSR_CHECK(x.dim(2) >= 2 && x.dim(3) >= 2, op, "x must be at least 2x2, got ", shape_str(x.shape()));
}

// Offset (0..3, row-major in the window) of the maximum of window (r, c) of an h x w plane.
template <typename T>
KDSR_HOST_DEVICE int max_pool2x2_argmax(const T* x, int64_t w, int64_t r, int64_t c) {
  const T* p = x + 2 * r * w + 2 * c;
  const T v[4] = {p[0], p[1], p[w], p[w + 1]};
  int best = 0;
  for (int k = 1; k < 4; k++)
    if (v[k] > v[best]) best = k;
  return best;
}

template <typename T>
KDSR_HOST_DEVICE T max_pool2x2_value(const T* x, int64_t w, int64_t r, int64_t c) {
  const int k = max_pool2x2_argmax(x, w, r, c);
  return x[(2 * r + k / 2) * w + 2 * c + k % 2];
}

// Gradient at input (i, j) of the h x w plane x, from dy of the (h/2) x (w/2) output plane.
template <typename T>
KDSR_HOST_DEVICE T max_pool2x2_grad(const T* dy, const T* x, int64_t h, int64_t w, int64_t i, int64_t j) {
  const int64_t r = i / 2, c = j / 2, oh = h / 2, ow = w / 2;
  if (r >= oh || c >= ow) return T(0);
  return max_pool2x2_argmax(x, w, r, c) == static_cast<int>((i % 2) * 2 + j % 2) ? dy[r * ow + c] : T(0);
}

}  // namespace kdsr
