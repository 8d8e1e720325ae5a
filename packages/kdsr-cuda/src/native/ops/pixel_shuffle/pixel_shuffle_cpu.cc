// Sub-pixel rearrangements with factor r (each the other's inverse, and so each the other's gradient):
//   pixel_shuffle   (B, C*r*r, H, W) -> (B, C, H*r, W*r):  y[b,c,Y*r+i,X*r+j] = x[b,c*r*r+i*r+j,Y,X]
//   pixel_unshuffle (B, C, H*r, W*r) -> (B, C*r*r, H, W):  y[b,c*r*r+i*r+j,Y,X] = x[b,c,Y*r+i,X*r+j]
// Both are parallel over output rows; each row gathers from r (shuffle) or one (unshuffle) input planes.
#include "../../core/parallel.h"
#include "../common/checks.h"

namespace kdsr {
namespace {

int64_t factor_of(const Attrs& attrs) {
  int64_t r = attrs.integer("factor");
  KDSR_CHECK(r >= 1, attrs.op(), "factor must be a positive integer, got ", r);
  return r;
}

Tensors pixel_shuffle_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  check_rank(attrs.op(), x, 4, "x");
  const int64_t r = factor_of(attrs);
  KDSR_CHECK(x.dim(1) % (r * r) == 0, attrs.op(), "the channels of x ", shape_str(x.shape()), " must be a multiple of factor^2 = ", r * r);
  const int64_t batch = x.dim(0), channels = x.dim(1) / (r * r), height = x.dim(2), width = x.dim(3);
  const int64_t out_h = height * r, out_w = width * r;
  Tensor y = Tensor::empty({batch, channels, out_h, out_w}, x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    parallel_for(batch * channels * out_h, [&](int64_t row) {
      const int64_t oy = row % out_h, bc = row / out_h;  // bc = b * channels + c
      const int64_t in_y = oy / r, i = oy % r;
      T* out = yp + row * out_w;
      for (int64_t j = 0; j < r; j++) {
        // Input plane c*r*r + i*r + j feeds output columns j, j + r, j + 2r, ...
        const T* src = xp + ((bc * r * r + i * r + j) * height + in_y) * width;
        for (int64_t in_x = 0; in_x < width; in_x++) out[in_x * r + j] = src[in_x];
      }
    }, grain_for(out_w));
  });
  return {y};
}

Tensors pixel_unshuffle_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  check_rank(attrs.op(), x, 4, "x");
  const int64_t r = factor_of(attrs);
  KDSR_CHECK(x.dim(2) % r == 0 && x.dim(3) % r == 0, attrs.op(), "the height and width of x ", shape_str(x.shape()),
             " must be multiples of the factor ", r);
  const int64_t batch = x.dim(0), channels = x.dim(1), in_h = x.dim(2), in_w = x.dim(3);
  const int64_t out_c = channels * r * r, out_h = in_h / r, out_w = in_w / r;
  Tensor y = Tensor::empty({batch, out_c, out_h, out_w}, x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    parallel_for(batch * out_c * out_h, [&](int64_t row) {
      const int64_t oy = row % out_h, boc = row / out_h;  // boc = b * out_c + oc
      const int64_t oc = boc % out_c, b = boc / out_c;
      const int64_t c = oc / (r * r), i = (oc / r) % r, j = oc % r;
      const T* src = xp + ((b * channels + c) * in_h + oy * r + i) * in_w + j;
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
