// 2x2 max-pooling and its backward on the CPU (formulas in max_pool2x2.h, shared with the CUDA
// kernels), one thread per plane.
#include "../../core/parallel.h"
#include "max_pool2x2.h"

namespace kdsr {
namespace {

Tensors max_pool2x2_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  check_max_pool_input(attrs.op(), x);
  const int64_t h = x.dim(2), w = x.dim(3), oh = h / 2, ow = w / 2;
  Tensor y = Tensor::empty({x.dim(0), x.dim(1), oh, ow}, x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    parallel_for(x.dim(0) * x.dim(1), [&](int64_t p) {
      const T* src = xp + p * h * w;
      T* out = yp + p * oh * ow;
      for (int64_t r = 0; r < oh; r++)
        for (int64_t c = 0; c < ow; c++) out[r * ow + c] = max_pool2x2_value(src, w, r, c);
    }, grain_for(h * w));
  });
  return {y};
}

Tensors max_pool2x2_backward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 2);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  check_max_pool_input(op, x);
  const int64_t h = x.dim(2), w = x.dim(3);
  KDSR_CHECK(dy.shape() == Shape({x.dim(0), x.dim(1), h / 2, w / 2}), op, "dy must have shape [", x.dim(0), ",", x.dim(1), ",", h / 2, ",", w / 2,
             "], got ", shape_str(dy.shape()));
  KDSR_CHECK(dy.dtype() == x.dtype(), op, "dy and x must have the same dtype");
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* dyp = dy.data<T>();
    const T* xp = x.data<T>();
    T* dxp = dx.data<T>();
    parallel_for(x.dim(0) * x.dim(1), [&](int64_t p) {
      const T* g = dyp + p * (h / 2) * (w / 2);
      const T* src = xp + p * h * w;
      T* out = dxp + p * h * w;
      for (int64_t i = 0; i < h; i++)
        for (int64_t j = 0; j < w; j++) out[i * w + j] = max_pool2x2_grad(g, src, h, w, i, j);
    }, grain_for(4 * h * w));
  });
  return {dx};
}

KDSR_REGISTER_KERNEL("max_pool2x2", "cpu", "reference", ({DType::F32, DType::F64}), max_pool2x2_forward);
KDSR_REGISTER_KERNEL("max_pool2x2_backward", "cpu", "reference", ({DType::F32, DType::F64}), max_pool2x2_backward);

}  // namespace
}  // namespace kdsr
