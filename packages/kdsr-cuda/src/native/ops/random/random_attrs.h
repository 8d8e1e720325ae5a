// The attributes of random_uniform and random_normal, read the same way by the CPU and CUDA kernels:
// the stream position (seed, offset) and the output tensor (shape, dtype, device).
#pragma once
#include <cmath>
#include <cstdint>

#include "../common/checks.h"

namespace kdsr {

// An integer attribute in [0, 2^53) (what a JS number holds exactly), as uint64.
inline uint64_t stream_position(const Attrs& attrs, const char* name) {
  constexpr double kTwoPow53 = 9007199254740992.0;
  const double v = attrs.number(name);
  KDSR_CHECK(v >= 0 && v < kTwoPow53 && std::floor(v) == v, attrs.op(), name, " must be an integer in [0, 2^53), got ", v);
  return static_cast<uint64_t>(v);
}

inline Tensor random_output(const Attrs& attrs) {
  const Shape shape = attrs.integers("shape");
  for (int64_t d : shape) KDSR_CHECK(d >= 0, attrs.op(), "shape ", shape_str(shape), " has a negative dimension");
  return Tensor::empty(shape, parse_dtype(attrs.string("dtype")), parse_device(attrs.string("device")));
}

}  // namespace kdsr
