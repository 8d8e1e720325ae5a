// random_uniform and random_normal on the CPU: the Philox4x32-10 stream of philox.h, parallel over
// blocks of four elements (each block is one Philox evaluation).
#include <algorithm>
#include <cmath>

#include "../../core/parallel.h"
#include "../common/checks.h"
#include "philox.h"

namespace kdsr {
namespace {

constexpr double kTwoPow53 = 9007199254740992.0;

// An integer attribute in [0, 2^53) (what a JS number holds exactly), as uint64.
uint64_t stream_position(const Attrs& attrs, const char* name) {
  const double v = attrs.number(name);
  KDSR_CHECK(v >= 0 && v < kTwoPow53 && std::floor(v) == v, attrs.op(), name, " must be an integer in [0, 2^53), got ", v);
  return static_cast<uint64_t>(v);
}

Tensor new_output(const Attrs& attrs) {
  const Shape shape = attrs.integers("shape");
  for (int64_t d : shape) KDSR_CHECK(d >= 0, attrs.op(), "shape ", shape_str(shape), " has a negative dimension");
  return Tensor::empty(shape, parse_dtype(attrs.string("dtype")), parse_device(attrs.string("device")));
}

// Calls write(i, block) for every element i, with block the Philox words of element i's block.
template <typename F>
void for_each_block(int64_t n, uint64_t seed, uint64_t offset, F&& write) {
  parallel_for((n + 3) / 4, [&](int64_t b) {
    const philox::Words words = philox::stream_block(seed, offset + static_cast<uint64_t>(b));
    for (int64_t i = 4 * b; i < std::min<int64_t>(n, 4 * b + 4); i++) write(i, words);
  }, grain_for(4));
}

Tensors random_uniform_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 0);
  const uint64_t seed = stream_position(attrs, "seed"), offset = stream_position(attrs, "offset");
  const double low = attrs.number("low"), high = attrs.number("high");
  KDSR_CHECK(low <= high, attrs.op(), "low ", low, " must not exceed high ", high);
  Tensor y = new_output(attrs);
  dispatch_dtype(y.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* yp = y.data<T>();
    const T lo = static_cast<T>(low), span = static_cast<T>(high - low);
    for_each_block(y.numel(), seed, offset, [&](int64_t i, const philox::Words& words) { yp[i] = lo + span * philox::uniform_co<T>(words.w[i % 4]); });
  });
  return {y};
}

Tensors random_normal_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 0);
  const uint64_t seed = stream_position(attrs, "seed"), offset = stream_position(attrs, "offset");
  const double mean = attrs.number("mean"), std_dev = attrs.number("std");
  KDSR_CHECK(std_dev >= 0, attrs.op(), "std must not be negative, got ", std_dev);
  Tensor y = new_output(attrs);
  dispatch_dtype(y.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* yp = y.data<T>();
    const T m = static_cast<T>(mean), s = static_cast<T>(std_dev);
    for_each_block(y.numel(), seed, offset, [&](int64_t i, const philox::Words& words) {
      const int j = static_cast<int>(i % 4), pair = j & 2;  // words (0,1) for j = 0, 1 and (2,3) for j = 2, 3
      yp[i] = m + s * philox::box_muller<T>(words.w[pair], words.w[pair + 1], j & 1);
    });
  });
  return {y};
}

KDSR_REGISTER_KERNEL("random_uniform", "cpu", "reference", ({DType::F32, DType::F64}), random_uniform_forward);
KDSR_REGISTER_KERNEL("random_normal", "cpu", "reference", ({DType::F32, DType::F64}), random_normal_forward);

}  // namespace
}  // namespace kdsr
