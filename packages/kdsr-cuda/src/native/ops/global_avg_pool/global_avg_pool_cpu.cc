// Global average pooling (B,C,H,W) -> (B,C) and its backward on the CPU, parallel over the B*C planes
// (checks and the gradient formula in global_avg_pool_shapes.h, shared with the CUDA kernels).
#include "../../core/parallel.h"
#include "global_avg_pool_shapes.h"

namespace kdsr {
namespace {

Tensors global_avg_pool_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  const int64_t plane = pooled_plane(attrs.op(), x);
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
  Tensor dx = Tensor::empty(pool_backward_shape(attrs, dy), dy.dtype(), dy.device());
  const int64_t plane = dx.dim(2) * dx.dim(3);
  dispatch_dtype(dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* dyp = dy.data<T>();
    T* dxp = dx.data<T>();
    parallel_for(dy.numel(), [&](int64_t p) {
      const T g = pool_grad(dyp[p], plane);
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
