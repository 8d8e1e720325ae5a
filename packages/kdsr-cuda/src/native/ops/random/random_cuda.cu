// random_uniform and random_normal on CUDA devices: the same Philox4x32-10 stream as the CPU
// (philox.h, shared): every element computes its own block, so element i is identical on both
// backends for uniform numbers; normal numbers agree to float rounding of log/cos/sin.
#include <cmath>

#include "../../cuda/cuda_utils.cuh"
#include "../common/checks.h"
#include "philox.h"

namespace kdsr {
namespace {

constexpr double kTwoPow53 = 9007199254740992.0;

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

Tensors random_uniform_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 0);
  const uint64_t seed = stream_position(attrs, "seed"), offset = stream_position(attrs, "offset");
  const double low = attrs.number("low"), high = attrs.number("high");
  KDSR_CHECK(low <= high, attrs.op(), "low ", low, " must not exceed high ", high);
  Tensor y = new_output(attrs);
  CudaGuard guard(y.device());
  float* yp = y.data<float>();
  const float lo = static_cast<float>(low), span = static_cast<float>(high - low);
  launch_elementwise(y.numel(), guard, attrs.op(), [=] __device__(int64_t i) {
    const philox::Words words = philox::stream_block(seed, offset + static_cast<uint64_t>(i / 4));
    yp[i] = lo + span * philox::uniform_co<float>(words.w[i % 4]);
  });
  return {y};
}

Tensors random_normal_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 0);
  const uint64_t seed = stream_position(attrs, "seed"), offset = stream_position(attrs, "offset");
  const double mean = attrs.number("mean"), std_dev = attrs.number("std");
  KDSR_CHECK(std_dev >= 0, attrs.op(), "std must not be negative, got ", std_dev);
  Tensor y = new_output(attrs);
  CudaGuard guard(y.device());
  float* yp = y.data<float>();
  const float m = static_cast<float>(mean), s = static_cast<float>(std_dev);
  launch_elementwise(y.numel(), guard, attrs.op(), [=] __device__(int64_t i) {
    const philox::Words words = philox::stream_block(seed, offset + static_cast<uint64_t>(i / 4));
    const int j = static_cast<int>(i % 4), pair = j & 2;  // words (0,1) for j = 0, 1 and (2,3) for j = 2, 3
    yp[i] = m + s * philox::box_muller<float>(words.w[pair], words.w[pair + 1], j & 1);
  });
  return {y};
}

KDSR_REGISTER_KERNEL("random_uniform", "cuda", "cuda", ({DType::F32}), random_uniform_cuda);
KDSR_REGISTER_KERNEL("random_normal", "cuda", "cuda", ({DType::F32}), random_normal_cuda);

}  // namespace
}  // namespace kdsr
