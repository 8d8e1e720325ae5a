// random_uniform and random_normal on the CPU: the Philox4x32-10 stream of philox.h, parallel over
// blocks of four elements (each block is one Philox evaluation, giving four values).
#include <algorithm>
#include <cmath>

#include "../../core/parallel.h"
#include "philox.h"
#include "random_attrs.h"

namespace kdsr {
namespace {

// y[4b .. 4b + 3] = values(block b's Philox words) for every block b (the last one cut at n); each
// thread runs over a contiguous range of blocks.
template <typename T, typename F>
void fill_blocks(T* y, int64_t n, uint64_t seed, uint64_t offset, F values) {
  parallel_for_range((n + 3) / 4, [=](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; b++) {
      T v[4];
      values(philox::stream_block(seed, offset + static_cast<uint64_t>(b)), v);
      for (int64_t j = 0; j < std::min<int64_t>(4, n - 4 * b); j++) y[4 * b + j] = v[j];
    }
  }, grain_for(4));
}

Tensors random_uniform_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 0);
  const uint64_t seed = stream_position(attrs, "seed"), offset = stream_position(attrs, "offset");
  const double low = attrs.number("low"), high = attrs.number("high");
  KDSR_CHECK(low <= high, attrs.op(), "low ", low, " must not exceed high ", high);
  Tensor y = random_output(attrs);
  dispatch_dtype(y.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T lo = static_cast<T>(low), span = static_cast<T>(high - low);
    fill_blocks(y.data<T>(), y.numel(), seed, offset, [=](const philox::Words& words, T* v) {
      for (int j = 0; j < 4; j++) v[j] = philox::uniform_value(words.w[j], lo, span);
    });
  });
  return {y};
}

Tensors random_normal_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 0);
  const uint64_t seed = stream_position(attrs, "seed"), offset = stream_position(attrs, "offset");
  const double mean = attrs.number("mean"), std_dev = attrs.number("std");
  KDSR_CHECK(std_dev >= 0, attrs.op(), "std must not be negative, got ", std_dev);
  Tensor y = random_output(attrs);
  dispatch_dtype(y.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T m = static_cast<T>(mean), s = static_cast<T>(std_dev);
    fill_blocks(y.data<T>(), y.numel(), seed, offset, [=](const philox::Words& words, T* v) {
      // Words (0,1) give elements 0 and 1, words (2,3) elements 2 and 3: one radius and angle per pair.
      for (int pair = 0; pair < 4; pair += 2) philox::normal_pair(words.w[pair], words.w[pair + 1], m, s, v[pair], v[pair + 1]);
    });
  });
  return {y};
}

KDSR_REGISTER_KERNEL("random_uniform", "cpu", "reference", ({DType::F32, DType::F64}), random_uniform_forward);
KDSR_REGISTER_KERNEL("random_normal", "cpu", "reference", ({DType::F32, DType::F64}), random_normal_forward);

}  // namespace
}  // namespace kdsr
