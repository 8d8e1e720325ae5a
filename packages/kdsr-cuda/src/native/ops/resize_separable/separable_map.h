// The pieces of resize_separable (y[p] = mh · x[p] · mwᵀ for every plane p) that its CPU and CUDA
// kernels share: the validated geometry, the nonzero span of a matrix row, and the dot product of a
// row's span with a strided vector, the formula of every output value of both passes.
#pragma once
#include <cstdint>

#include "../common/checks.h"
#include "../common/host_device.h"

namespace kdsr {
namespace separable {

// x (B,C,H,W), mh (Ho,H), mw (Wo,W) -> y (B,C,Ho,Wo).
struct Geometry {
  int64_t planes, h, w, oh, ow;
  Shape output;
};

inline Geometry geometry(const std::string& op, const Tensor& x, const Tensor& mh, const Tensor& mw) {
  check_rank(op, x, 4, "x");
  check_rank(op, mh, 2, "mh");
  check_rank(op, mw, 2, "mw");
  KDSR_CHECK(mh.dtype() == x.dtype() && mw.dtype() == x.dtype(), op, "mh and mw must have the dtype of x");
  Geometry g{x.dim(0) * x.dim(1), x.dim(2), x.dim(3), mh.dim(0), mw.dim(0), {x.dim(0), x.dim(1), mh.dim(0), mw.dim(0)}};
  KDSR_CHECK(mh.dim(1) == g.h, op, "mh ", shape_str(mh.shape()), " must have ", g.h, " columns (the height of x)");
  KDSR_CHECK(mw.dim(1) == g.w, op, "mw ", shape_str(mw.shape()), " must have ", g.w, " columns (the width of x)");
  return g;
}

struct Span {
  int64_t first;
  int64_t last;  // inclusive; last < first for an all-zero row
};

// The columns from the first to the last nonzero entry of a matrix row.
template <typename T>
KDSR_HOST_DEVICE inline Span row_span(const T* row, int64_t cols) {
  Span s{cols, -1};
  for (int64_t c = 0; c < cols; c++)
    if (row[c] != T(0)) {
      if (s.first == cols) s.first = c;
      s.last = c;
    }
  return s;
}

// sum over j in the span, in increasing j, of m[j] * v[j * stride].
template <typename T>
KDSR_HOST_DEVICE inline T span_dot(const T* m, const T* v, int64_t stride, Span s) {
  T acc = T(0);
  for (int64_t j = s.first; j <= s.last; j++) acc += m[j] * v[j * stride];
  return acc;
}

}  // namespace separable
}  // namespace kdsr
