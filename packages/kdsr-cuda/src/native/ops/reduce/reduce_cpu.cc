// Reductions on the CPU: reduce_sum, reduce_mean, reduce_max over one dimension or all elements
// (reduce_geometry.h, shared with the CUDA kernels), and the backward kernels reduce_backward (sum
// and mean: alpha * dy broadcast back) and reduce_max_backward (dy routed to the first position of
// each maximum). Sums accumulate in double; every reduction combines its terms in a fixed order, so
// results do not depend on the thread count.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "../../core/parallel.h"
#include "../common/parallel_reduce.h"
#include "reduce_geometry.h"

namespace kdsr {
namespace {

// y[o, k] = finish(fold of combine over j of x[o, j, k]), parallel over (o, tile of k).
template <typename T, typename Acc, typename Combine, typename Finish>
void reduce_over_dim(const T* x, T* y, const ReduceGeometry& g, Acc init, Combine combine, Finish finish) {
  constexpr int64_t kTile = 64;  // adjacent outputs share cache lines of x
  const int64_t tiles = (g.inner + kTile - 1) / kTile;
  parallel_for(g.outer * tiles, [&](int64_t job) {
    const int64_t o = job / tiles, k0 = (job % tiles) * kTile, width = std::min(g.inner - k0, kTile);
    Acc acc[kTile];
    std::fill(acc, acc + width, init);
    for (int64_t j = 0; j < g.n; j++) {
      const T* row = x + (o * g.n + j) * g.inner + k0;
      for (int64_t k = 0; k < width; k++) acc[k] = combine(acc[k], row[k]);
    }
    for (int64_t k = 0; k < width; k++) y[o * g.inner + k0 + k] = finish(acc[k]);
  }, grain_for(g.n * std::min(g.inner, kTile)));
}

template <bool Mean>
Tensors reduce_sum_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  KDSR_CHECK(x.defined(), attrs.op(), "x is required");
  const ReduceGeometry g = reduce_geometry(attrs, x.shape());
  Tensor y = Tensor::empty(g.out_shape, x.dtype(), x.device());
  const double factor = Mean ? 1.0 / static_cast<double>(g.n) : 1.0;
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    if (!attrs.has("dim")) {
      yp[0] = static_cast<T>(parallel_sum(x.numel(), [&](int64_t i) { return static_cast<double>(xp[i]); }) * factor);
    } else {
      reduce_over_dim(
          xp, yp, g, 0.0, [](double acc, T v) { return acc + v; }, [&](double acc) { return static_cast<T>(acc * factor); });
    }
  });
  return {y};
}

Tensors reduce_max_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  KDSR_CHECK(x.defined(), attrs.op(), "x is required");
  const ReduceGeometry g = reduce_geometry(attrs, x.shape());
  Tensor y = Tensor::empty(g.out_shape, x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    if (!attrs.has("dim")) {
      yp[0] = xp[parallel_argmax<T>(x.numel(), [&](int64_t i) { return xp[i]; })];
    } else {
      reduce_over_dim(
          xp, yp, g, -std::numeric_limits<T>::infinity(), [](T best, T v) { return max_replaces(v, best) ? v : best; }, [](T best) { return best; });
    }
  });
  return {y};
}

Tensors reduce_backward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& dy = in[0];
  const Shape shape = reduce_backward_shape(attrs, dy);
  const ReduceGeometry g = reduce_geometry(attrs, shape);
  const double alpha = attrs.number("alpha");
  Tensor dx = Tensor::empty(shape, dy.dtype(), dy.device());
  dispatch_dtype(dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* dyp = dy.data<T>();
    T* dxp = dx.data<T>();
    parallel_for(g.outer * g.n, [&](int64_t row) {  // row = o * n + j
      const T* src = dyp + (row / g.n) * g.inner;
      T* out = dxp + row * g.inner;
      for (int64_t k = 0; k < g.inner; k++) out[k] = reduce_grad(src[k], alpha);
    }, grain_for(g.inner));
  });
  return {dx};
}

Tensors reduce_max_backward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 3);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  const Tensor& y = in[2];
  const ReduceGeometry g = reduce_max_backward_geometry(attrs, dy, x, y);
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* dyp = dy.data<T>();
    const T* xp = x.data<T>();
    const T* yp = y.data<T>();
    T* dxp = dx.data<T>();
    parallel_for_range(x.numel(), [=](int64_t begin, int64_t end) { std::fill(dxp + begin, dxp + end, T(0)); });
    // For each output (o, k): the first j where x[o, j, k] equals the maximum y[o, k].
    std::atomic<int64_t> unmatched{-1};  // errors cannot be thrown out of a parallel region
    parallel_for(g.outer * g.inner, [&](int64_t out) {
      const int64_t o = out / g.inner, k = out % g.inner;
      const T* column = xp + o * g.n * g.inner + k;
      int64_t j = 0;
      while (j < g.n && !is_maximum(column[j * g.inner], yp[out])) j++;
      if (j < g.n) {
        dxp[(o * g.n + j) * g.inner + k] = dyp[out];
      } else {
        unmatched = out;
      }
    }, grain_for(g.n));
    KDSR_CHECK(unmatched < 0, attrs.op(), "y is not the maximum of x (no element of x equals y[", unmatched.load(), "] = ", yp[std::max<int64_t>(unmatched, 0)], ")");
  });
  return {dx};
}

KDSR_REGISTER_KERNEL("reduce_sum", "cpu", "reference", ({DType::F32, DType::F64}), reduce_sum_forward<false>);
KDSR_REGISTER_KERNEL("reduce_mean", "cpu", "reference", ({DType::F32, DType::F64}), reduce_sum_forward<true>);
KDSR_REGISTER_KERNEL("reduce_max", "cpu", "reference", ({DType::F32, DType::F64}), reduce_max_forward);
KDSR_REGISTER_KERNEL("reduce_backward", "cpu", "reference", ({DType::F32, DType::F64}), reduce_backward);
KDSR_REGISTER_KERNEL("reduce_max_backward", "cpu", "reference", ({DType::F32, DType::F64}), reduce_max_backward);

}  // namespace
}  // namespace kdsr
