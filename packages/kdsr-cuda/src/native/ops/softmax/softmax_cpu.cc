// softmax and log_softmax over the last dimension, with their backward passes, on the CPU, parallel
// over rows (formulas in softmax_rows.h, shared with the CUDA kernels). Rows are computed in double
// through a stable log-sum-exp (log_sum_exp.h).
#include "../../core/parallel.h"
#include "log_sum_exp.h"
#include "softmax_rows.h"

namespace kdsr {
namespace {

template <bool Log>
Tensors forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  const int64_t n = softmax_row_length(attrs.op(), x, "x");
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    parallel_for(x.numel() / n, [&](int64_t row) {
      const T* xr = xp + row * n;
      T* yr = yp + row * n;
      const double lse = log_sum_exp(xr, n);
      for (int64_t i = 0; i < n; i++) yr[i] = static_cast<T>(softmax_value<Log>(xr[i], lse));
    }, grain_for(n));
  });
  return {y};
}

template <bool Log>
Tensors backward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& dy = in[0];
  const Tensor& y = in[1];
  const int64_t n = softmax_row_length(attrs.op(), y, "y");
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
      double sum = 0;
      for (int64_t i = 0; i < n; i++) sum += softmax_sum_term<Log>(g[i], yr[i]);
      for (int64_t i = 0; i < n; i++) out[i] = static_cast<T>(softmax_grad<Log>(g[i], yr[i], sum));
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
