// conv2d forward and backward, reference CPU kernels (float32 and float64): the oracle for the
// oneDNN kernels and the fallback where oneDNN is absent. Each tap of the kernel is one shifted
// multiply-add of a whole plane over the rectangle where the shifted input exists, so no inner
// loop tests for the zero border. The "same" geometry (stride 1, output size = input size) has
// contiguous fast paths; any other stride / padding goes through the strided forms. Work is split over output planes (or weights), each written by
// one thread: results do not depend on the thread count.
#include <algorithm>

#include "../../core/parallel.h"
#include "../common/cpu_simd.h"
#include "conv2d_shape.h"

namespace kdsr {
namespace {

// out[r][q] += tap * in[r+dr][q+dc] wherever in[r+dr][q+dc] lies inside the h x w plane.
template <typename T>
KDSR_ALWAYS_INLINE void shifted_axpy_impl(T* __restrict out, const T* __restrict in, int64_t h, int64_t w, int64_t dr, int64_t dc, T tap) {
  const int64_t r0 = std::max<int64_t>(0, -dr), r1 = std::min(h, h - dr);
  const int64_t q0 = std::max<int64_t>(0, -dc), q1 = std::min(w, w - dc);
  for (int64_t r = r0; r < r1; r++) {
    T* __restrict o = out + r * w;
    const T* __restrict i = in + (r + dr) * w + dc;
    for (int64_t q = q0; q < q1; q++) o[q] += tap * i[q];
  }
}

// sum of a[r][q] * b[r+dr][q+dc] over the same rectangle.
template <typename T>
KDSR_ALWAYS_INLINE T shifted_dot_impl(const T* __restrict a, const T* __restrict b, int64_t h, int64_t w, int64_t dr, int64_t dc) {
  const int64_t r0 = std::max<int64_t>(0, -dr), r1 = std::min(h, h - dr);
  const int64_t q0 = std::max<int64_t>(0, -dc), q1 = std::min(w, w - dc);
  T s = 0;
  for (int64_t r = r0; r < r1; r++) {
    const T* __restrict ar = a + r * w;
    const T* __restrict br = b + (r + dr) * w + dc;
#pragma omp simd reduction(+ : s)
    for (int64_t q = q0; q < q1; q++) s += ar[q] * br[q];
  }
  return s;
}

// Compiled for each instruction set (cpu_simd.h); the compiler vectorises the loops at its width.
struct ShiftedAxpy {
  template <int W, typename T>
  KDSR_ALWAYS_INLINE static void run(T* out, const T* in, int64_t h, int64_t w, int64_t dr, int64_t dc, T tap) {
    shifted_axpy_impl(out, in, h, w, dr, dc, tap);
  }
};
struct ShiftedDot {
  template <int W, typename T>
  KDSR_ALWAYS_INLINE static T run(const T* a, const T* b, int64_t h, int64_t w, int64_t dr, int64_t dc) {
    return shifted_dot_impl(a, b, h, w, dr, dc);
  }
};
template <typename T>
void shifted_axpy(T* out, const T* in, int64_t h, int64_t w, int64_t dr, int64_t dc, T tap) {
  simd::dispatch<ShiftedAxpy>(out, in, h, w, dr, dc, tap);
}
template <typename T>
T shifted_dot(const T* a, const T* b, int64_t h, int64_t w, int64_t dr, int64_t dc) {
  return simd::dispatch<ShiftedDot>(a, b, h, w, dr, dc);
}

// The output indices r in [lo, hi) whose input index stride * r + offset lies in [0, n_in).
struct Span {
  int64_t lo, hi;
};
inline Span valid_span(int64_t n_out, int64_t n_in, int64_t stride, int64_t offset) {
  const int64_t lo = offset < 0 ? (-offset + stride - 1) / stride : 0;
  const int64_t last = n_in - 1 - offset;
  const int64_t hi = last < 0 ? 0 : std::min(n_out, last / stride + 1);
  return Span{lo, std::max(lo, hi)};
}

// Strided forms over an oh x ow output plane and an h x w input plane, input index stride * r + dr:
// out[r][q] += tap * in[..][..]; in[..][..] += tap * out[r][q] (the transposed scatter); sum out * in.
template <typename T>
void strided_axpy(T* out, const T* in, const Conv2dShape& s, int64_t dr, int64_t dc, T tap) {
  const Span rs = valid_span(s.oh, s.h, s.stride, dr), qs = valid_span(s.ow, s.w, s.stride, dc);
  for (int64_t r = rs.lo; r < rs.hi; r++) {
    T* o = out + r * s.ow;
    const T* i = in + (s.stride * r + dr) * s.w + dc;
    for (int64_t q = qs.lo; q < qs.hi; q++) o[q] += tap * i[s.stride * q];
  }
}

template <typename T>
void strided_scatter(T* in, const T* out, const Conv2dShape& s, int64_t dr, int64_t dc, T tap) {
  const Span rs = valid_span(s.oh, s.h, s.stride, dr), qs = valid_span(s.ow, s.w, s.stride, dc);
  for (int64_t r = rs.lo; r < rs.hi; r++) {
    const T* o = out + r * s.ow;
    T* i = in + (s.stride * r + dr) * s.w + dc;
    for (int64_t q = qs.lo; q < qs.hi; q++) i[s.stride * q] += tap * o[q];
  }
}

template <typename T>
T strided_dot(const T* out, const T* in, const Conv2dShape& s, int64_t dr, int64_t dc) {
  const Span rs = valid_span(s.oh, s.h, s.stride, dr), qs = valid_span(s.ow, s.w, s.stride, dc);
  T sum = 0;
  for (int64_t r = rs.lo; r < rs.hi; r++) {
    const T* o = out + r * s.ow;
    const T* i = in + (s.stride * r + dr) * s.w + dc;
    for (int64_t q = qs.lo; q < qs.hi; q++) sum += o[q] * i[s.stride * q];
  }
  return sum;
}

bool same_geometry(const Conv2dShape& s) { return s.stride == 1 && s.oh == s.h && s.ow == s.w; }

// y[b,o,r,q] = bias[o] + sum_{i,u,v} weight[o,i,u,v] * x[b,i,s*r+u-p,s*q+v-p]
Tensors conv2d_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 3);
  const Tensor& x = in[0];
  const Tensor& weight = in[1];
  const Tensor& bias = in[2];
  const Conv2dShape s = conv2d_shape(attrs, x, weight, bias);
  Tensor y = Tensor::empty({s.batch, s.cout, s.oh, s.ow}, x.dtype(), x.device());
  const bool same = same_geometry(s);
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    const T* wp = weight.data<T>();
    const T* bp = bias.defined() ? bias.data<T>() : nullptr;
    T* yp = y.data<T>();
    const int64_t plane = s.h * s.w, out_plane = s.oh * s.ow, p = s.pad;
    parallel_for(s.batch * s.cout, [&](int64_t bo) {
      const int64_t b = bo / s.cout, o = bo % s.cout;
      T* out = yp + bo * out_plane;
      const T init = bp ? bp[o] : T(0);
      for (int64_t j = 0; j < out_plane; j++) out[j] = init;
      for (int64_t i = 0; i < s.cin; i++) {
        const T* xi = xp + (b * s.cin + i) * plane;
        const T* taps = wp + (o * s.cin + i) * s.k * s.k;
        for (int64_t u = 0; u < s.k; u++)
          for (int64_t v = 0; v < s.k; v++) {
            if (same)
              shifted_axpy(out, xi, s.h, s.w, u - p, v - p, taps[u * s.k + v]);
            else
              strided_axpy(out, xi, s, u - p, v - p, taps[u * s.k + v]);
          }
      }
    }, grain_for(out_plane * s.cin * s.k * s.k));
  });
  return {y};
}

// dx[b,i,s*r+u-p,s*q+v-p] += weight[o,i,u,v] * dy[b,o,r,q] over o, u, v, r, q
// dweight[o,i,u,v] = sum_{b,r,q} dy[b,o,r,q] * x[b,i,s*r+u-p,s*q+v-p]
// dbias[o] = sum_{b,r,q} dy[b,o,r,q]
Tensors conv2d_backward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 3);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  const Tensor& weight = in[2];
  const Conv2dShape s = conv2d_shape(attrs, x, weight);
  check_conv2d_dy(op, dy, s, x.dtype());
  Tensor dx = attrs.flag("need_input") ? Tensor::empty(x.shape(), x.dtype(), x.device()) : Tensor();
  Tensor dweight = attrs.flag("need_weight") ? Tensor::empty(weight.shape(), x.dtype(), x.device()) : Tensor();
  Tensor dbias = attrs.flag("need_bias") ? Tensor::empty({s.cout}, x.dtype(), x.device()) : Tensor();
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* dyp = dy.data<T>();
    const T* xp = x.data<T>();
    const T* wp = weight.data<T>();
    const int64_t plane = s.h * s.w, out_plane = s.oh * s.ow, p = s.pad, taps = s.k * s.k;
    const bool same = same_geometry(s);
    if (dx.defined()) {
      T* dxp = dx.data<T>();
      parallel_for(s.batch * s.cin, [&](int64_t bi) {
        const int64_t b = bi / s.cin, i = bi % s.cin;
        T* out = dxp + bi * plane;
        for (int64_t j = 0; j < plane; j++) out[j] = 0;
        for (int64_t o = 0; o < s.cout; o++) {
          const T* g = dyp + (b * s.cout + o) * out_plane;
          const T* w = wp + (o * s.cin + i) * taps;
          for (int64_t u = 0; u < s.k; u++)
            for (int64_t v = 0; v < s.k; v++) {
              if (same)
                shifted_axpy(out, g, s.h, s.w, p - u, p - v, w[u * s.k + v]);
              else
                strided_scatter(out, g, s, u - p, v - p, w[u * s.k + v]);
            }
        }
      }, grain_for(out_plane * s.cout * taps));
    }
    if (dweight.defined()) {
      T* dwp = dweight.data<T>();
      parallel_for(s.cout * s.cin, [&](int64_t oi) {
        const int64_t o = oi / s.cin, i = oi % s.cin;
        for (int64_t u = 0; u < s.k; u++)
          for (int64_t v = 0; v < s.k; v++) {
            T sum = 0;
            for (int64_t b = 0; b < s.batch; b++) {
              const T* g = dyp + (b * s.cout + o) * out_plane;
              const T* xi = xp + (b * s.cin + i) * plane;
              sum += same ? shifted_dot(g, xi, s.h, s.w, u - p, v - p) : strided_dot(g, xi, s, u - p, v - p);
            }
            dwp[oi * taps + u * s.k + v] = sum;
          }
      }, grain_for(s.batch * out_plane * taps));
    }
    if (dbias.defined()) {
      T* dbp = dbias.data<T>();
      parallel_for(s.cout, [&](int64_t o) {
        T sum = 0;
        for (int64_t b = 0; b < s.batch; b++) {
          const T* g = dyp + (b * s.cout + o) * out_plane;
#pragma omp simd reduction(+ : sum)
          for (int64_t j = 0; j < out_plane; j++) sum += g[j];
        }
        dbp[o] = sum;
      }, grain_for(s.batch * out_plane));
    }
  });
  return {dx, dweight, dbias};
}

KDSR_REGISTER_KERNEL("conv2d", "cpu", "reference", ({DType::F32, DType::F64}), conv2d_forward);
KDSR_REGISTER_KERNEL("conv2d_backward", "cpu", "reference", ({DType::F32, DType::F64}), conv2d_backward);

}  // namespace
}  // namespace kdsr
