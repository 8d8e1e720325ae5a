// dyn_dwconv_blocked on the CPU: IDR-DDC (dyn_dwconv with zero padding and the optional fused
// LeakyReLU) on channel-blocked activations (ops/common/blocked_layout.h), for the planned inference
// path. In that layout the channels of a pixel are adjacent, so one vector holds one pixel's value
// for several channels, each with its own tap: every output vector is a sum of k*k products of an
// input vector and a kernel vector (vectors of the machine's width, common/cpu_simd.h). Work is
// split over output rows, each written by one thread with the taps added in the same order: results
// do not depend on the thread count.
#include <algorithm>

#include "../../core/parallel.h"
#include "../common/blocked_layout.h"
#include "../common/cpu_simd.h"
#include "../common/parallel_scratch.h"

namespace kdsr {
namespace {

constexpr int64_t kMaxKernel = 63;

struct RowJob {
  int64_t width, block, k;
  bool fused;
  double slope;
};

// Output pixels [x0, x1) of one row: rows[u] is input row y + u - k/2 of the slab (null outside the
// image), taps[(u*k+v)*b + l] the kernel of lane l. L lanes at a time (L divides b), the k*k products
// summed in tap order in a register. Border: test each tap's column against the image.
template <typename T, int L, bool Border>
KDSR_ALWAYS_INLINE void blocked_pixels(const T* const* rows, const T* taps, T* out, const RowJob& j, int64_t x0, int64_t x1) {
  constexpr int W = L * sizeof(T);
  using V = simd::Vec<T, W>;
  const int64_t p = j.k / 2, b = j.block;
  const V zero = {};
  const V slope = zero + static_cast<T>(j.slope);
  for (int64_t x = x0; x < x1; x++)
    for (int64_t l0 = 0; l0 < b; l0 += L) {
      V acc = zero;
      for (int64_t u = 0; u < j.k; u++) {
        if (!rows[u]) continue;
        for (int64_t v = 0; v < j.k; v++) {
          const int64_t xx = x + v - p;
          if (Border && (xx < 0 || xx >= j.width)) continue;
          acc += simd::load<W>(taps + (u * j.k + v) * b + l0) * simd::load<W>(rows[u] + xx * b + l0);
        }
      }
      if (j.fused) acc = acc > zero ? acc : acc * slope;
      simd::store<W>(out + x * b + l0, acc);
    }
}

template <typename T, int L>
KDSR_ALWAYS_INLINE void blocked_row(const T* const* rows, const T* taps, T* out, const RowJob& j) {
  const int64_t p = j.k / 2, inner0 = std::min(p, j.width), inner1 = std::max(inner0, j.width - p);
  blocked_pixels<T, L, true>(rows, taps, out, j, 0, inner0);
  blocked_pixels<T, L, false>(rows, taps, out, j, inner0, inner1);
  blocked_pixels<T, L, true>(rows, taps, out, j, inner1, j.width);
}

// The widest vector of at most L lanes whose lane count divides the block (nChw16c / nChw8c / NHWC
// with such channel counts take the machine's full width).
template <typename T, int L>
KDSR_ALWAYS_INLINE void blocked_row_widest(const T* const* rows, const T* taps, T* out, const RowJob& j) {
  if constexpr (L > 1)
    if (j.block % L != 0) return blocked_row_widest<T, L / 2>(rows, taps, out, j);
  blocked_row<T, L>(rows, taps, out, j);
}

// One output row in vectors of the active instruction set's width (simd::dispatch).
struct RowForward {
  template <int W, typename T>
  KDSR_ALWAYS_INLINE static void run(const T* const* rows, const T* taps, T* out, const RowJob* j) {
    blocked_row_widest<T, simd::lanes<T, W>>(rows, taps, out, *j);
  }
};

Tensors dyn_dwconv_blocked_forward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 2);
  const Tensor& x = in[0];
  const Tensor& kernels = in[1];
  check_rank(op, kernels, 4, "kernels");
  const int64_t k = kernels.dim(2);
  KDSR_CHECK(kernels.dim(3) == k && k % 2 == 1 && k <= kMaxKernel, op, "kernels must have shape [B,C,k,k] with odd k up to ", kMaxKernel, ", got ",
             shape_str(kernels.shape()));
  const BlockedShape s = blocked_shape_of(op, x, kernels.dim(1), "x");
  KDSR_CHECK(kernels.dim(0) == s.batch, op, "kernels ", shape_str(kernels.shape()), " must have one kernel per sample of x ", shape_str(x.shape()));
  KDSR_CHECK(x.dtype() == kernels.dtype(), op, "x and kernels must have the same dtype");
  const RowJob job{s.width, s.block, k, attrs.has("negative_slope"), attrs.number_or("negative_slope", 0)};
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    const T* kp = kernels.data<T>();
    T* yp = y.data<T>();
    const int64_t taps = k * k, row = s.width * s.block;
    parallel_for_scratch<T>(s.batch * s.blocks * s.height, static_cast<size_t>(taps * s.block), [&](int64_t item, T* tap) {
      const int64_t yy = item % s.height, slab = item / s.height, n = slab / s.blocks, c0 = (slab % s.blocks) * s.block;
      for (int64_t t = 0; t < taps; t++)
        for (int64_t l = 0; l < s.block; l++) tap[t * s.block + l] = c0 + l < s.channels ? kp[(n * s.channels + c0 + l) * taps + t] : T(0);
      const T* rows[kMaxKernel];
      for (int64_t u = 0; u < k; u++) {
        const int64_t r = yy + u - k / 2;
        rows[u] = r >= 0 && r < s.height ? xp + slab * s.slab() + r * row : nullptr;
      }
      simd::dispatch<RowForward>(static_cast<const T* const*>(rows), static_cast<const T*>(tap), yp + slab * s.slab() + yy * row, &job);
    }, grain_for(row * taps));
  });
  return {y};
}

KDSR_REGISTER_KERNEL("dyn_dwconv_blocked", "cpu", "reference", ({DType::F32, DType::F64}), dyn_dwconv_blocked_forward);

}  // namespace
}  // namespace kdsr
