// pixel_shuffle and pixel_unshuffle on the CPU (the layout correspondence is in sub_pixel_layout.h,
// shared with the CUDA kernels). Both are parallel over output rows; a shuffled row gathers from r
// packed rows (one per j), an unshuffled row from one spread row with stride r.
#include "../../core/parallel.h"
#include "sub_pixel_layout.h"

namespace kdsr {
namespace {

Tensors pixel_shuffle_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  Shape shape;
  const SubPixelLayout layout = pixel_shuffle_layout(attrs, x, shape);
  Tensor y = Tensor::empty(shape, x.dtype(), x.device());
  const int64_t r = layout.r, out_h = shape[2], out_w = shape[3];
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    parallel_for(shape[0] * shape[1] * out_h, [&](int64_t row) {
      const int64_t oy = row % out_h, bc = row / out_h;
      T* out = yp + layout.spread_row(bc, oy / r, oy % r);
      for (int64_t j = 0; j < r; j++) {
        // Packed row (i, j) feeds output columns j, j + r, j + 2r, ...
        const T* src = xp + layout.packed_row(bc, oy % r, j, oy / r);
        for (int64_t in_x = 0; in_x < layout.width; in_x++) out[in_x * r + j] = src[in_x];
      }
    }, grain_for(out_w));
  });
  return {y};
}

Tensors pixel_unshuffle_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  Shape shape;
  const SubPixelLayout layout = pixel_unshuffle_layout(attrs, x, shape);
  Tensor y = Tensor::empty(shape, x.dtype(), x.device());
  const int64_t r = layout.r, out_c = shape[1], out_h = shape[2], out_w = shape[3];
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    parallel_for(shape[0] * out_c * out_h, [&](int64_t row) {
      const int64_t oy = row % out_h, plane = row / out_h;  // plane = bc*r*r + i*r + j
      const T* src = xp + layout.spread_row(plane / (r * r), oy, (plane / r) % r) + plane % r;
      T* out = yp + row * out_w;
      for (int64_t ox = 0; ox < out_w; ox++) out[ox] = src[ox * r];
    }, grain_for(out_w));
  });
  return {y};
}

KDSR_REGISTER_KERNEL("pixel_shuffle", "cpu", "reference", ({DType::F32, DType::F64}), pixel_shuffle_forward);
KDSR_REGISTER_KERNEL("pixel_unshuffle", "cpu", "reference", ({DType::F32, DType::F64}), pixel_unshuffle_forward);

}  // namespace
}  // namespace kdsr
