// Bilinear x2 up-sampling and its backward on the CPU (formulas in upsample_bilinear2x.h, shared with
// the CUDA kernels), one thread per plane.
#include "../../core/parallel.h"
#include "upsample_bilinear2x.h"

namespace kdsr {
namespace {

Tensors upsample_bilinear2x_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  check_upsample_input(attrs.op(), x, "x");
  const int64_t h = x.dim(2), w = x.dim(3);
  Tensor y = Tensor::empty({x.dim(0), x.dim(1), 2 * h, 2 * w}, x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    parallel_for(x.dim(0) * x.dim(1), [&](int64_t p) {
      const T* src = xp + p * h * w;
      T* out = yp + p * 4 * h * w;
      for (int64_t r = 0; r < 2 * h; r++)
        for (int64_t c = 0; c < 2 * w; c++) out[r * 2 * w + c] = bilinear2x_value(src, h, w, r, c);
    }, grain_for(4 * h * w));
  });
  return {y};
}

Tensors upsample_bilinear2x_backward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 1);
  const Tensor& dy = in[0];
  check_upsample_input(op, dy, "dy");
  KDSR_CHECK(dy.dim(2) % 2 == 0 && dy.dim(3) % 2 == 0, op, "dy must have even height and width, got ", shape_str(dy.shape()));
  const int64_t h = dy.dim(2) / 2, w = dy.dim(3) / 2;
  Tensor dx = Tensor::empty({dy.dim(0), dy.dim(1), h, w}, dy.dtype(), dy.device());
  dispatch_dtype(dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* dyp = dy.data<T>();
    T* dxp = dx.data<T>();
    parallel_for(dy.dim(0) * dy.dim(1), [&](int64_t p) {
      const T* g = dyp + p * 4 * h * w;
      T* out = dxp + p * h * w;
      for (int64_t i = 0; i < h; i++)
        for (int64_t j = 0; j < w; j++) out[i * w + j] = bilinear2x_grad(g, h, w, i, j);
    }, grain_for(16 * h * w));
  });
  return {dx};
}

KDSR_REGISTER_KERNEL("upsample_bilinear2x", "cpu", "reference", ({DType::F32, DType::F64}), upsample_bilinear2x_forward);
KDSR_REGISTER_KERNEL("upsample_bilinear2x_backward", "cpu", "reference", ({DType::F32, DType::F64}), upsample_bilinear2x_backward);

}  // namespace
}  // namespace kdsr
