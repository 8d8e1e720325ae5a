// Per-channel affine map y[b,c,h,w] = x[b,c,h,w] * scale[c] + shift[c] (KDSR's mean shift) and its
// backward: dx = dy * scale[c], dscale[c] = sum over b,h,w of dy * x, dshift[c] = sum of dy.
// The channel sums are parallel over channels, each summed in a fixed order (deterministic).
#include "../../core/parallel.h"
#include "channel_affine_checks.h"

namespace kdsr {
namespace {

Tensors channel_affine_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 3);
  const Tensor& x = in[0];
  check_channel_affine(attrs.op(), x, in[1], in[2]);
  const int64_t channels = x.dim(1), plane = x.dim(2) * x.dim(3);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    const T* sp = in[1].data<T>();
    const T* tp = in[2].data<T>();
    T* yp = y.data<T>();
    parallel_for(x.dim(0) * channels, [&](int64_t p) {
      const T s = sp[p % channels], t = tp[p % channels];
      for (int64_t k = p * plane; k < (p + 1) * plane; k++) yp[k] = xp[k] * s + t;
    }, grain_for(plane));
  });
  return {y};
}

Tensors channel_affine_backward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 3);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  const Tensor& scale = in[2];
  check_channel_affine_backward(attrs.op(), dy, x, scale);
  const bool need_input = attrs.flag("need_input"), need_scale = attrs.flag("need_scale"), need_shift = attrs.flag("need_shift");
  const int64_t batch = x.dim(0), channels = x.dim(1), plane = x.dim(2) * x.dim(3);
  Tensor dx, dscale, dshift;
  if (need_input) dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (need_scale) dscale = Tensor::empty({channels}, x.dtype(), x.device());
  if (need_shift) dshift = Tensor::empty({channels}, x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* dyp = dy.data<T>();
    const T* xp = x.data<T>();
    if (need_input) {
      const T* sp = scale.data<T>();
      T* dxp = dx.data<T>();
      parallel_for(batch * channels, [&](int64_t p) {
        const T s = sp[p % channels];
        for (int64_t k = p * plane; k < (p + 1) * plane; k++) dxp[k] = dyp[k] * s;
      }, grain_for(plane));
    }
    if (need_scale || need_shift) {
      parallel_for(channels, [&](int64_t c) {
        double sum_dy_x = 0, sum_dy = 0;
        for (int64_t b = 0; b < batch; b++) {
          const int64_t base = (b * channels + c) * plane;
          for (int64_t k = base; k < base + plane; k++) {
            sum_dy_x += static_cast<double>(dyp[k]) * xp[k];
            sum_dy += dyp[k];
          }
        }
        if (need_scale) dscale.data<T>()[c] = static_cast<T>(sum_dy_x);
        if (need_shift) dshift.data<T>()[c] = static_cast<T>(sum_dy);
      }, grain_for(batch * plane));
    }
  });
  return {dx, dscale, dshift};
}

KDSR_REGISTER_KERNEL("channel_affine", "cpu", "reference", ({DType::F32, DType::F64}), channel_affine_forward);
KDSR_REGISTER_KERNEL("channel_affine_backward", "cpu", "reference", ({DType::F32, DType::F64}), channel_affine_backward);

}  // namespace
}  // namespace kdsr
