// pixel_shuffle_blocked on the CPU: pixel_shuffle (y[c, Y*r+i, X*r+j] = x[c*r*r + i*r + j, Y, X]) on
// channel-blocked activations (ops/common/blocked_layout.h), for the planned inference path's
// upsampler. Each output row gathers, lane by lane, from the input pixel's channels through a table
// of offsets made once per row. Every element is a copy: results do not depend on the thread count.
#include "../../core/parallel.h"
#include "../common/blocked_layout.h"
#include "../common/parallel_scratch.h"

namespace kdsr {
namespace {

Tensors pixel_shuffle_blocked_forward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 1);
  const int64_t r = attrs.integer("factor"), channels = attrs.integer("channels");
  KDSR_CHECK(r >= 1 && channels >= 1, op, "factor and channels must be at least 1, got ", r, " and ", channels);
  const BlockedShape si = blocked_shape_of(op, in[0], channels * r * r, "x");
  const BlockedShape so = blocked_shape(si.batch, channels, si.height * r, si.width * r, checked_block(op, attrs));
  Tensor y = Tensor::empty(so.shape(), in[0].dtype(), in[0].device());
  dispatch_dtype(y.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = in[0].data<T>();
    T* yp = y.data<T>();
    const int64_t bo = so.block;
    // Per output row, offsets[j * bo + l]: where lane l of output column phase j reads, from its input pixel; -1 for padding.
    parallel_for_scratch<int64_t>(so.batch * so.blocks * so.height, static_cast<size_t>(r * bo), [&](int64_t item, int64_t* offsets) {
      const int64_t oy = item % so.height, slab = item / so.height, n = slab / so.blocks, c0 = (slab % so.blocks) * bo;
      const int64_t i = oy % r, in_y = oy / r;
      for (int64_t j = 0; j < r; j++)
        for (int64_t l = 0; l < bo; l++) {
          const int64_t c = c0 + l, source = c * r * r + i * r + j;
          offsets[j * bo + l] = c < channels ? si.index(n, source, in_y, 0) : -1;
        }
      T* out = yp + so.index(n, c0, oy, 0);
      for (int64_t ox = 0; ox < so.width; ox++) {
        const int64_t* lane = offsets + (ox % r) * bo;
        const T* pixel = xp + (ox / r) * si.block;
        T* dst = out + ox * bo;
        for (int64_t l = 0; l < bo; l++) dst[l] = lane[l] >= 0 ? pixel[lane[l]] : T(0);
      }
    }, grain_for(so.width * bo));
  });
  return {y};
}

KDSR_REGISTER_KERNEL("pixel_shuffle_blocked", "cpu", "reference", ({DType::F32, DType::F64}), pixel_shuffle_blocked_forward);

}  // namespace
}  // namespace kdsr
