// Bilinear x2 up-sampling (align_corners = False), as the CPU and CUDA kernels share it. Along each
// axis output o reads source position s = max((o + 0.5) / 2 - 0.5, 0) between i0 = floor(s) and
// i1 = min(i0 + 1, n - 1) with weights 1 - l and l, l = s - i0 (exactly 0, 0.25 or 0.75); rows and
// columns are independent, so a 2-D output is the product of one row and one column interpolation.
// The backward gathers: input i is read only by outputs 2i - 1 .. 2i + 2.
#pragma once
#include "../common/checks.h"
#include "../common/host_device.h"

namespace kdsr {

inline void check_upsample_input(const std::string& op, const Tensor& x, const char* name) {
  check_rank(op, x, 4, name);
}

// The two source indices and the weight l of i1 for output o along an axis of n inputs.
template <typename T>
KDSR_HOST_DEVICE void bilinear2x_taps(int64_t o, int64_t n, int64_t& i0, int64_t& i1, T& l) {
  if (o == 0) {
    i0 = 0, l = T(0);
  } else if (o % 2 == 0) {
    i0 = o / 2 - 1, l = T(0.75);
  } else {
    i0 = (o - 1) / 2, l = T(0.25);
  }
  i1 = i0 + 1 < n ? i0 + 1 : n - 1;
}

// How much output o reads of input i (0 unless i is one of its taps; both taps when they coincide).
template <typename T>
KDSR_HOST_DEVICE T bilinear2x_weight(int64_t o, int64_t i, int64_t n) {
  int64_t i0, i1;
  T l;
  bilinear2x_taps(o, n, i0, i1, l);
  return (i0 == i ? T(1) - l : T(0)) + (i1 == i ? l : T(0));
}

// Output (r, c) of an h x w input plane.
template <typename T>
KDSR_HOST_DEVICE T bilinear2x_value(const T* x, int64_t h, int64_t w, int64_t r, int64_t c) {
  int64_t r0, r1, c0, c1;
  T lr, lc;
  bilinear2x_taps(r, h, r0, r1, lr);
  bilinear2x_taps(c, w, c0, c1, lc);
  const T top = (T(1) - lc) * x[r0 * w + c0] + lc * x[r0 * w + c1];
  const T bottom = (T(1) - lc) * x[r1 * w + c0] + lc * x[r1 * w + c1];
  return (T(1) - lr) * top + lr * bottom;
}

// Gradient at input (i, j) of an h x w plane from the 2h x 2w upstream gradient plane dy.
template <typename T>
KDSR_HOST_DEVICE T bilinear2x_grad(const T* dy, int64_t h, int64_t w, int64_t i, int64_t j) {
  T sum = T(0);
  for (int64_t r = 2 * i - 1; r <= 2 * i + 2; r++) {
    if (r < 0 || r >= 2 * h) continue;
    const T wr = bilinear2x_weight<T>(r, i, h);
    if (wr == T(0)) continue;
    T row = T(0);
    for (int64_t c = 2 * j - 1; c <= 2 * j + 2; c++)
      if (c >= 0 && c < 2 * w) row += bilinear2x_weight<T>(c, j, w) * dy[r * 2 * w + c];
    sum += wr * row;
  }
  return sum;
}

}  // namespace kdsr
