// Separable linear map of image planes on the CPU: y[b,c] = mh · x[b,c] · mwᵀ.
// Every fixed-weight resize (KDSR bicubic, MATLAB imresize, torch area/bilinear/bicubic) and every
// separable filter is such a map once its border rule is folded into the matrices (built in TS).
// The matrices are banded, so each output only visits the nonzero span of its matrix row
// (separable_map.h, shared with the CUDA kernels).
#include <vector>

#include "../../core/parallel.h"
#include "separable_map.h"

namespace kdsr {
namespace {

using separable::Span;

template <typename T>
std::vector<Span> row_spans(const T* m, int64_t rows, int64_t cols) {
  std::vector<Span> spans(rows);
  for (int64_t r = 0; r < rows; r++) spans[r] = separable::row_span(m + r * cols, cols);
  return spans;
}

Tensors resize_separable_forward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 3);
  const Tensor& x = in[0];
  const Tensor& mh = in[1];
  const Tensor& mw = in[2];
  const separable::Geometry g = separable::geometry(op, x, mh, mw);
  const int64_t planes = g.planes, h = g.h, w = g.w, oh = g.oh, ow = g.ow;
  Tensor y = Tensor::empty(g.output, x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    const T* hp = mh.data<T>();
    const T* wp = mw.data<T>();
    T* yp = y.data<T>();
    const std::vector<Span> hs = row_spans(hp, oh, h);
    const std::vector<Span> ws = row_spans(wp, ow, w);
    // Rows first: tmp[p, i, c] = span_dot(mh[i], x[p, :, c]), a whole row of c at a time (contiguous
    // inner loop; the same sum, in the same order, for every c).
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
    // Then columns: y[p, i, k] = span_dot(mw[k], tmp[p, i, :]).
    parallel_for(planes * oh, [&](int64_t pi) {
      const T* t = tmp.data() + pi * w;
      T* out = yp + pi * ow;
      for (int64_t k = 0; k < ow; k++) out[k] = separable::span_dot(wp + k * w, t, 1, ws[k]);
    });
  });
  return {y};
}

KDSR_REGISTER_KERNEL("resize_separable", "cpu", "reference", ({DType::F32, DType::F64}), resize_separable_forward);

}  // namespace
}  // namespace kdsr
