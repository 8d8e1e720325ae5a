// Global average pooling (B,C,H,W) -> (B,C) and its backward, parallel over the B*C planes.
#include "../../core/parallel.h"
#include "../common/checks.h"

namespace kdsr {
namespace {

Tensors global_avg_pool_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  check_rank(attrs.op(), x, 4, "x");
  const int64_t plane = x.dim(2) * x.dim(3);
  KDSR_CHECK(plane > 0, attrs.op(), "x ", shape_str(x.shape()), " has no pixels to average");
  Tensor y = Tensor::empty({x.dim(0), x.dim(1)}, x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    parallel_for(x.dim(0) * x.dim(1), [&](int64_t p) {
      const T* src = xp + p * plane;
      double sum = 0;
      for (int64_t k = 0; k < plane; k++) sum += src[k];
      yp[p] = static_cast<T>(sum / static_cast<double>(plane));
    }, grain_for(plane));
  });
  return {y};
}

Tensors global_avg_pool_backward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& dy = in[0];
  check_rank(attrs.op(), dy, 2, "dy");
  const int64_t height = attrs.integer("height"), width = attrs.integer("width");
  KDSR_CHECK(height >= 1 && width >= 1, attrs.op(), "height and width must be positive, got ", height, " and ", width);
  const int64_t plane = height * width;
  Tensor dx = Tensor::empty({dy.dim(0), dy.dim(1), height, width}, dy.dtype(), dy.device());
  dispatch_dtype(dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* dyp = dy.data<T>();
    T* dxp = dx.data<T>();
    parallel_for(dy.numel(), [&](int64_t p) {
      const T g = static_cast<T>(static_cast<double>(dyp[p]) / static_cast<double>(plane));
      T* out = dxp + p * plane;
      for (int64_t k = 0; k < plane; k++) out[k] = g;
    }, grain_for(plane));
  });
  return {dx};
}

KDSR_REGISTER_KERNEL("global_avg_pool", "cpu", "reference", ({DType::F32, DType::F64}), global_avg_pool_forward);
KDSR_REGISTER_KERNEL("global_avg_pool_backward", "cpu", "reference", ({DType::F32, DType::F64}), global_avg_pool_backward);

}  // namespace
}  // namespace kdsr
