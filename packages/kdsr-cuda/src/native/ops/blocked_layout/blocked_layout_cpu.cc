// to_blocked and from_blocked on the CPU: conversions between NCHW and the channel-blocked layout of the
// inference-only ops (ops/common/blocked_layout.h), at the edges of a planned network. Parallel over
// output rows; each element is a copy, so results do not depend on the thread count.
#include "../../core/parallel.h"
#include "../common/blocked_layout.h"

namespace kdsr {
namespace {

Tensors to_blocked_forward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 1);
  const Tensor& x = in[0];
  check_rank(op, x, 4, "x");
  const BlockedShape s = blocked_shape(x.dim(0), x.dim(1), x.dim(2), x.dim(3), checked_block(op, attrs));
  Tensor y = Tensor::empty(s.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    const int64_t plane = s.height * s.width;
    parallel_for(s.batch * s.blocks * s.height, [&](int64_t row) {
      const int64_t yy = row % s.height, nb = row / s.height, n = nb / s.blocks, c0 = (nb % s.blocks) * s.block;
      T* out = yp + row * s.width * s.block;
      for (int64_t l = 0; l < s.block; l++) {
        const int64_t c = c0 + l;
        const T* src = xp + (n * s.channels + c) * plane + yy * s.width;
        if (c < s.channels)
          for (int64_t xx = 0; xx < s.width; xx++) out[xx * s.block + l] = src[xx];
        else
          for (int64_t xx = 0; xx < s.width; xx++) out[xx * s.block + l] = 0;
      }
    }, grain_for(s.width * s.block));
  });
  return {y};
}

Tensors from_blocked_forward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 1);
  const int64_t channels = attrs.integer("channels");
  KDSR_CHECK(channels >= 1, op, "channels must be at least 1, got ", channels);
  const BlockedShape s = blocked_shape_of(op, in[0], channels, "x");
  Tensor y = Tensor::empty({s.batch, s.channels, s.height, s.width}, in[0].dtype(), in[0].device());
  dispatch_dtype(y.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = in[0].data<T>();
    T* yp = y.data<T>();
    parallel_for(s.batch * s.channels * s.height, [&](int64_t row) {
      const int64_t yy = row % s.height, nc = row / s.height, n = nc / s.channels, c = nc % s.channels;
      const T* src = xp + s.index(n, c, yy, 0);
      T* out = yp + row * s.width;
      for (int64_t xx = 0; xx < s.width; xx++) out[xx] = src[xx * s.block];
    }, grain_for(s.width));
  });
  return {y};
}

KDSR_REGISTER_KERNEL("to_blocked", "cpu", "reference", ({DType::F32, DType::F64}), to_blocked_forward);
KDSR_REGISTER_KERNEL("from_blocked", "cpu", "reference", ({DType::F32, DType::F64}), from_blocked_forward);

}  // namespace
}  // namespace kdsr
