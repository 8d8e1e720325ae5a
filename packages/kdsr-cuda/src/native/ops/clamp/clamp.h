// clamp(x, min, max) = min(max(x, min), max) and its backward: dy where min < x < max, else 0 (at
// the bounds themselves the gradient is taken as 0). Shared by the CPU and CUDA kernels; written as
// comparisons, so a NaN stays NaN.
#pragma once
#include "../common/checks.h"
#include "../common/host_device.h"

namespace kdsr {

// The attributes min and max, checked, rounded to T.
template <typename T>
void clamp_bounds(const Attrs& attrs, T& lo, T& hi) {
  const double min = attrs.number("min"), max = attrs.number("max");
  KDSR_CHECK(min <= max, attrs.op(), "min ", min, " must not exceed max ", max);
  lo = static_cast<T>(min);
  hi = static_cast<T>(max);
}

template <typename T>
KDSR_HOST_DEVICE T clamp_value(T x, T lo, T hi) {
  return x < lo ? lo : x > hi ? hi : x;
}

template <typename T>
KDSR_HOST_DEVICE T clamp_grad(T dy, T x, T lo, T hi) {
  return x > lo && x < hi ? dy : T(0);
}

}  // namespace kdsr
