// conv2d_blocked and conv2d_block_size, reference CPU kernels (float32 and float64): the oracle for the
// oneDNN kernels and what runs without oneDNN. Per (sample, output channel), each input channel's
// plane is gathered from its block and added tap by tap as a shifted multiply-add over the rectangle
// where the shifted input exists (as conv2d's reference kernel does); every output plane is written
// by one thread, so results do not depend on the thread count.
#include <algorithm>

#include "../../core/parallel.h"
#include "../common/parallel_scratch.h"
#include "conv2d_blocked_shape.h"

namespace kdsr {
namespace {

Tensors conv2d_blocked_forward(const Tensors& in, const Attrs& attrs) {
  const Conv2dBlockedShape s = conv2d_blocked_shape(in, attrs);
  Tensor y = conv2d_blocked_output(in, s);
  dispatch_dtype(y.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = in[0].data<T>();
    const T* wp = in[1].data<T>();
    const T* bp = s.has_bias ? in[2].data<T>() : nullptr;
    T* yp = y.data<T>();
    const int64_t h = s.in.height, w = s.in.width, plane = h * w, k = s.k, p = k / 2, cin = s.in.channels, cout = s.out.channels;
    const T slope = static_cast<T>(s.slope);
    // Work items: every (sample, output block, lane), including the zero lanes past Cout.
    parallel_for_scratch<T>(s.out.batch * s.out.blocks * s.out.block, static_cast<size_t>(2 * plane), [&](int64_t item, T* scratch) {
      const int64_t n = item / (s.out.blocks * s.out.block), oc = item % (s.out.blocks * s.out.block);
      T* acc = scratch;
      T* gathered = scratch + plane;
      if (oc < cout) {
        std::fill(acc, acc + plane, bp ? bp[oc] : T(0));
        for (int64_t ic = 0; ic < cin; ic++) {
          const T* src = xp + s.in.index(n, ic, 0, 0);
          for (int64_t i = 0; i < plane; i++) gathered[i] = src[i * s.in.block];
          for (int64_t u = 0; u < k; u++)
            for (int64_t v = 0; v < k; v++) {
              const T tap = wp[((oc * cin + ic) * k + u) * k + v];
              const int64_t dr = u - p, dc = v - p;
              const int64_t r0 = std::max<int64_t>(0, -dr), r1 = std::min(h, h - dr), q0 = std::max<int64_t>(0, -dc), q1 = std::min(w, w - dc);
              for (int64_t r = r0; r < r1; r++)
                for (int64_t q = q0; q < q1; q++) acc[r * w + q] += tap * gathered[(r + dr) * w + q + dc];
            }
        }
      }
      T* out = yp + s.out.index(n, oc, 0, 0);
      for (int64_t i = 0; i < plane; i++) {
        if (oc >= cout) {
          out[i * s.out.block] = 0;
          continue;
        }
        T v = acc[i];
        if (s.fused) v = v > 0 ? v : slope * v;
        out[i * s.out.block] = s.has_residual ? v + out[i * s.out.block] : v;
      }
    });
  });
  return {y};
}

// The reference kernels compute in any layout; NCHW (block 1) converts to and from nothing.
Tensors conv2d_block_size_reference(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  check_rank(attrs.op(), in[0], 4, "weight");
  Tensor block = Tensor::empty({1}, DType::F32, in[0].device());
  block.data<float>()[0] = 1;
  return {block};
}

KDSR_REGISTER_KERNEL("conv2d_blocked", "cpu", "reference", ({DType::F32, DType::F64}), conv2d_blocked_forward);
KDSR_REGISTER_KERNEL("conv2d_block_size", "cpu", "reference", ({DType::F32, DType::F64}), conv2d_block_size_reference);

}  // namespace
}  // namespace kdsr
