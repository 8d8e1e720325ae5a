// softmax and log_softmax over the last dimension, with their backward passes, parallel over rows.
// Rows are computed in double through a stable log-sum-exp (log_sum_exp.h).
//   softmax:      y = exp(x - lse(x)),  dx = y * (dy - sum(dy * y))
//   log_softmax:  y = x - lse(x),       dx = dy - exp(y) * sum(dy)
#include <algorithm>

#include "../../core/parallel.h"
#include "../common/checks.h"
#include "log_sum_exp.h"

namespace kdsr {
namespace {

// The row length (last dimension) of x; x must have rank >= 1 and non-empty rows.
int64_t row_length(const std::string& op, const Tensor& x, const char* name) {
  KDSR_CHECK(x.defined(), op, name, " is required");
  KDSR_CHECK(x.rank() >= 1 && x.dim(-1) >= 1, op, name, " ", shape_str(x.shape()), " needs a non-empty last dimension");
  return x.dim(-1);
}

template <bool Log>
Tensors forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  const int64_t n = row_length(attrs.op(), x, "x");
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    parallel_for(x.numel() / n, [&](int64_t row) {
      const T* xr = xp + row * n;
      T* yr = yp + row * n;
      const double lse = log_sum_exp(xr, n);
      for (int64_t i = 0; i < n; i++) {
        const double shifted = static_cast<double>(xr[i]) - lse;
        yr[i] = static_cast<T>(Log ? shifted : std::exp(shifted));
      }
    }, grain_for(n));
  });
  return {y};
}

template <bool Log>
Tensors backward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& dy = in[0];
  const Tensor& y = in[1];
  const int64_t n = row_length(attrs.op(), y, "y");
  check_same_shape(attrs.op(), dy, y, "dy", "y");
  Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
  dispatch_dtype(y.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* dyp = dy.data<T>();
    const T* yp = y.data<T>();
    T* dxp = dx.data<T>();
    parallel_for(y.numel() / n, [&](int64_t row) {
      const T* g = dyp + row * n;
      const T* yr = yp + row * n;
      T* out = dxp + row * n;
      double dot = 0;  // sum(dy) for log_softmax, sum(dy * y) for softmax
      for (int64_t i = 0; i < n; i++) dot += Log ? static_cast<double>(g[i]) : static_cast<double>(g[i]) * yr[i];
      for (int64_t i = 0; i < n; i++)
        out[i] = static_cast<T>(Log ? g[i] - std::exp(static_cast<double>(yr[i])) * dot : yr[i] * (g[i] - dot));
    }, grain_for(n));
  });
  return {dx};
}

KDSR_REGISTER_KERNEL("softmax", "cpu", "reference", ({DType::F32, DType::F64}), forward<false>);
KDSR_REGISTER_KERNEL("softmax_backward", "cpu", "reference", ({DType::F32, DType::F64}), backward<false>);
KDSR_REGISTER_KERNEL("log_softmax", "cpu", "reference", ({DType::F32, DType::F64}), forward<true>);
KDSR_REGISTER_KERNEL("log_softmax_backward", "cpu", "reference", ({DType::F32, DType::F64}), backward<true>);

}  // namespace
}  // namespace kdsr
