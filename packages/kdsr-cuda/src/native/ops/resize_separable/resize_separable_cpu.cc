// Separable linear map of image planes on the CPU: y[b,c] = mh · x[b,c] · mwᵀ.
// Every fixed-weight resize (KDSR bicubic, MATLAB imresize, torch area/bilinear/bicubic) and every
// separable filter is such a map once its border rule is folded into the matrices (built in TS).
// The matrices are banded, so each output only visits the nonzero span of its matrix row.
#include <vector>

#include "../../core/parallel.h"
#include "../common/checks.h"

namespace kdsr {
namespace {

struct Span {
  int64_t first;
  int64_t last;  // inclusive; last < first for an all-zero row
};

template <typename T>
std::vector<Span> row_spans(const T* m, int64_t rows, int64_t cols) {
  std::vector<Span> spans(rows);
  for (int64_t r = 0; r < rows; r++) {
    int64_t first = cols;
    int64_t last = -1;
    for (int64_t c = 0; c < cols; c++)
      if (m[r * cols + c] != T(0)) {
        if (first == cols) first = c;
        last = c;
      }
    spans[r] = {first, last};
  }
  return spans;
}

Tensors resize_separable_forward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 3);
  const Tensor& x = in[0];
  const Tensor& mh = in[1];
  const Tensor& mw = in[2];
  check_rank(op, x, 4, "x");
  check_rank(op, mh, 2, "mh");
  check_rank(op, mw, 2, "mw");
  KDSR_CHECK(mh.dtype() == x.dtype() && mw.dtype() == x.dtype(), op, "mh and mw must have the dtype of x");
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t h = x.dim(2);
  const int64_t w = x.dim(3);
  const int64_t oh = mh.dim(0);
  const int64_t ow = mw.dim(0);
  KDSR_CHECK(mh.dim(1) == h, op, "mh ", shape_str(mh.shape()), " must have ", h, " columns (the height of x)");
  KDSR_CHECK(mw.dim(1) == w, op, "mw ", shape_str(mw.shape()), " must have ", w, " columns (the width of x)");
  Tensor y = Tensor::empty({x.dim(0), x.dim(1), oh, ow}, x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    const T* hp = mh.data<T>();
    const T* wp = mw.data<T>();
    T* yp = y.data<T>();
    const std::vector<Span> hs = row_spans(hp, oh, h);
    const std::vector<Span> ws = row_spans(wp, ow, w);
    // Rows first: tmp[p, i, :] = sum_j mh[i, j] x[p, j, :] (contiguous inner loop).
    std::vector<T> tmp(static_cast<size_t>(planes * oh * w));
    parallel_for(planes * oh, [&](int64_t pi) {
      const int64_t p = pi / oh;
      const int64_t i = pi % oh;
      T* t = tmp.data() + pi * w;
      for (int64_t c = 0; c < w; c++) t[c] = T(0);
      for (int64_t j = hs[i].first; j <= hs[i].last; j++) {
        const T m = hp[i * h + j];
        const T* row = xp + (p * h + j) * w;
        for (int64_t c = 0; c < w; c++) t[c] += m * row[c];
      }
    });
    // Then columns: y[p, i, k] = sum_j mw[k, j] tmp[p, i, j].
    parallel_for(planes * oh, [&](int64_t pi) {
      const T* t = tmp.data() + pi * w;
      T* out = yp + pi * ow;
      for (int64_t k = 0; k < ow; k++) {
        const T* m = wp + k * w;
        T s = T(0);
        for (int64_t j = ws[k].first; j <= ws[k].last; j++) s += m[j] * t[j];
        out[k] = s;
      }
    });
  });
  return {y};
}

KDSR_REGISTER_KERNEL("resize_separable", "cpu", "reference", ({DType::F32, DType::F64}), resize_separable_forward);

}  // namespace
}  // namespace kdsr
