// quantize(x, levels) = round(clamp(x, 0, 1) * levels) / levels with round half to even: the value an
// image takes when stored with `levels` + 1 grey levels (255: 8 bits). Shared by the CPU and CUDA
// kernels. The product is formed in double, where it is exact for float32 inputs, so the rounding
// decision is exact and the same on both.
#pragma once
#include <cmath>

#include "../common/checks.h"
#include "../common/host_device.h"

namespace kdsr {

inline double quantize_levels(const Attrs& attrs) {
  const double levels = attrs.number("levels");
  KDSR_CHECK(levels > 0 && std::isfinite(levels), attrs.op(), "levels must be a positive number, got ", levels);
  return levels;
}

template <typename T>
KDSR_HOST_DEVICE T quantize_value(T x, double levels) {
  using std::fmax;
  using std::fmin;
  using std::rint;
  const double v = fmin(fmax(static_cast<double>(x), 0.0), 1.0);
  return static_cast<T>(rint(v * levels) / levels);  // rint: ties to even (the default rounding mode)
}

}  // namespace kdsr
