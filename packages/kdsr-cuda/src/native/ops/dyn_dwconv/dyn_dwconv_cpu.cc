// IDR dynamic depthwise convolution on the CPU, forward and backward: every (sample, channel)
// plane is cross-correlated with its own k x k kernel, 'zero' or 'reflect' padding of k//2, and
// an optional LeakyReLU fused on the output. Planes are independent, so threads split them and
// every output element is written by one thread: the results do not depend on the thread count.
#include "../common/checks.h"
#include "../common/cpu_simd.h"
#include "../common/parallel_scratch.h"
#include "depthwise_plane.h"

namespace kdsr {
namespace {

using depthwise::Padding;

struct PlaneShape {
  int64_t h, w;
  int k;
  Padding padding;
  bool fused;    // LeakyReLU on the output
  double slope;  // its negative slope
};

int64_t padded_size(int64_t h, int64_t w, int64_t border) { return (h + 2 * border) * (w + 2 * border); }

// One plane forward, with vectors of W bytes (cpu_simd.h).
struct ForwardPlane {
  template <int W, typename T>
  KDSR_ALWAYS_INLINE static void run(const T* x, const T* kernel, T* y, const PlaneShape& s, T* scratch) {
    const int64_t p = s.k / 2;
    depthwise::pad_plane(x, s.h, s.w, p, s.padding, scratch);
    depthwise::correlate<W>(scratch, s.w + 2 * p, kernel, s.k, y, s.h, s.w);
    if (s.fused) {
      const T slope = static_cast<T>(s.slope);
      for (int64_t i = 0; i < s.h * s.w; i++) y[i] = y[i] > 0 ? y[i] : slope * y[i];
    }
  }
};

int64_t forward_scratch(const PlaneShape& s) { return padded_size(s.h, s.w, s.k / 2); }

// dx and dkernel of one plane (either may be null). With the fused LeakyReLU the upstream
// gradient is first multiplied by its derivative, read from the sign of the output y.
struct BackwardPlane {
  template <int W, typename T>
  KDSR_ALWAYS_INLINE static void run(const T* dy, const T* y, const T* x, const T* kernel, T* dx, T* dkernel, const PlaneShape& s, T* scratch) {
    const int64_t h = s.h, w = s.w, p = s.k / 2, k = s.k;
    // dx needs the gradient zero-padded by p (zero padding: dx directly) or by 2p (reflect: the
    // gradient of the whole padded input, folded back afterwards).
    const int64_t gborder = dx && s.padding == Padding::Reflect ? 2 * p : p;
    const int64_t gw = w + 2 * gborder;
    T* gpad = scratch;
    T* xpad = gpad + padded_size(h, w, gborder);
    T* flipped = xpad + padded_size(h, w, p);
    T* dpad = flipped + k * k;

    for (int64_t i = 0; i < padded_size(h, w, gborder); i++) gpad[i] = 0;
    T* g = gpad + gborder * gw + gborder;
    const T slope = static_cast<T>(s.slope);
    for (int64_t r = 0; r < h; r++) {
      const T* __restrict dyr = dy + r * w;
      T* __restrict gr = g + r * gw;
      if (s.fused) {
        const T* __restrict yr = y + r * w;
        for (int64_t q = 0; q < w; q++) gr[q] = yr[q] > 0 ? dyr[q] : slope * dyr[q];
      } else {
        for (int64_t q = 0; q < w; q++) gr[q] = dyr[q];
      }
    }

    if (dkernel) {
      depthwise::pad_plane(x, h, w, p, s.padding, xpad);
      depthwise::correlate_kernel_grad<W>(g, gw, xpad, w + 2 * p, h, w, s.k, dkernel);
    }
    if (dx) {
      // The input gradient is the correlation of the padded upstream gradient with the flipped kernel.
      for (int64_t t = 0; t < k * k; t++) flipped[t] = kernel[k * k - 1 - t];
      if (s.padding == Padding::Zero) {
        depthwise::correlate<W>(gpad, gw, flipped, s.k, dx, h, w);
      } else {
        depthwise::correlate<W>(gpad, gw, flipped, s.k, dpad, h + 2 * p, w + 2 * p);
        depthwise::fold_reflect(dpad, h, w, p, dx);
      }
    }
  }
};

int64_t backward_scratch(const PlaneShape& s) {
  const int64_t p = s.k / 2;
  return padded_size(s.h, s.w, 2 * p) + 2 * padded_size(s.h, s.w, p) + s.k * s.k;
}

// Validates x and kernels and returns the plane geometry from the shapes and attributes.
PlaneShape plane_shape(const std::string& op, const Tensor& x, const Tensor& kernels, const Attrs& attrs) {
  check_rank(op, x, 4, "x");
  check_rank(op, kernels, 4, "kernels");
  KDSR_CHECK(x.dtype() == kernels.dtype(), op, "x and kernels must have the same dtype");
  const int64_t k = kernels.dim(2);
  KDSR_CHECK(kernels.dim(0) == x.dim(0) && kernels.dim(1) == x.dim(1) && kernels.dim(3) == k && k % 2 == 1, op,
             "kernels must have shape [B,C,k,k] with odd k for x ", shape_str(x.shape()), ", got ", shape_str(kernels.shape()));
  const std::string& padding = attrs.string("padding");
  KDSR_CHECK(padding == "zero" || padding == "reflect", op, "padding must be 'zero' or 'reflect', got '", padding, "'");
  const Padding mode = padding == "zero" ? Padding::Zero : Padding::Reflect;
  KDSR_CHECK(mode == Padding::Zero || (k / 2 < x.dim(2) && k / 2 < x.dim(3)), op, "reflect padding of ", k / 2,
             " needs height and width above it, got x ", shape_str(x.shape()));
  const bool fused = attrs.has("negative_slope");
  const double slope = attrs.number_or("negative_slope", 0);
  // The backward pass reads the LeakyReLU mask from the sign of the output, which is only the
  // sign of the pre-activation for a non-negative slope.
  KDSR_CHECK(slope >= 0, op, "negative_slope must be >= 0, got ", slope);
  return PlaneShape{x.dim(2), x.dim(3), static_cast<int>(k), mode, fused, slope};
}

Tensors dyn_dwconv_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& x = in[0];
  const Tensor& kernels = in[1];
  const PlaneShape s = plane_shape(attrs.op(), x, kernels, attrs);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    const T* kp = kernels.data<T>();
    T* yp = y.data<T>();
    const int64_t plane = s.h * s.w, taps = int64_t{s.k} * s.k;
    parallel_for_scratch<T>(x.dim(0) * x.dim(1), forward_scratch(s), [&](int64_t i, T* scratch) {
      simd::dispatch<ForwardPlane>(xp + i * plane, kp + i * taps, yp + i * plane, s, scratch);
    }, grain_for(plane * taps));
  });
  return {y};
}

Tensors dyn_dwconv_backward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 4);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  const Tensor& kernels = in[2];
  const Tensor& y = in[3];
  const PlaneShape s = plane_shape(op, x, kernels, attrs);
  KDSR_CHECK(dy.defined(), op, "dy is required");
  check_same_shape(op, dy, x, "dy", "x");
  if (s.fused) {
    KDSR_CHECK(y.defined(), op, "y (the forward output) is required with negative_slope");
    check_same_shape(op, y, x, "y", "x");
  }
  const bool need_input = attrs.flag("need_input");
  const bool need_kernels = attrs.flag("need_kernels");
  Tensor dx = need_input ? Tensor::empty(x.shape(), x.dtype(), x.device()) : Tensor();
  Tensor dkernels = need_kernels ? Tensor::empty(kernels.shape(), kernels.dtype(), kernels.device()) : Tensor();
  if (!need_input && !need_kernels) return {dx, dkernels};
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* dyp = dy.data<T>();
    const T* yp = s.fused ? y.data<T>() : nullptr;
    const T* xp = x.data<T>();
    const T* kp = kernels.data<T>();
    T* dxp = need_input ? dx.data<T>() : nullptr;
    T* dkp = need_kernels ? dkernels.data<T>() : nullptr;
    const int64_t plane = s.h * s.w, taps = int64_t{s.k} * s.k;
    parallel_for_scratch<T>(x.dim(0) * x.dim(1), backward_scratch(s), [&](int64_t i, T* scratch) {
      simd::dispatch<BackwardPlane>(dyp + i * plane, yp ? yp + i * plane : nullptr, xp + i * plane, kp + i * taps, dxp ? dxp + i * plane : nullptr,
                     dkp ? dkp + i * taps : nullptr, s, scratch);
    }, grain_for(plane * taps));
  });
  return {dx, dkernels};
}

KDSR_REGISTER_KERNEL("dyn_dwconv", "cpu", "reference", ({DType::F32, DType::F64}), dyn_dwconv_forward);
KDSR_REGISTER_KERNEL("dyn_dwconv_backward", "cpu", "reference", ({DType::F32, DType::F64}), dyn_dwconv_backward);

}  // namespace
}  // namespace kdsr
