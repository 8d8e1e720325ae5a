// random_uniform and random_normal on CUDA devices: the same Philox4x32-10 stream as the CPU
// (philox.h, shared): every element computes its own block, so element i is identical on both
// backends for uniform numbers; normal numbers agree to float rounding of log/cos/sin.
#include "../../cuda/cuda_utils.cuh"
#include "philox.h"
#include "random_attrs.h"

namespace kdsr {
namespace {

Tensors random_uniform_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 0);
  const uint64_t seed = stream_position(attrs, "seed"), offset = stream_position(attrs, "offset");
  const double low = attrs.number("low"), high = attrs.number("high");
  KDSR_CHECK(low <= high, attrs.op(), "low ", low, " must not exceed high ", high);
  Tensor y = random_output(attrs);
  CudaGuard guard(y.device());
  float* yp = y.data<float>();
  const float lo = static_cast<float>(low), span = static_cast<float>(high - low);
  launch_elementwise(y.numel(), guard, attrs.op(), [=] __device__(int64_t i) {
    const philox::Words words = philox::stream_block(seed, offset + static_cast<uint64_t>(i / 4));
    yp[i] = philox::uniform_value(words.w[i % 4], lo, span);
  });
  return {y};
}

Tensors random_normal_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 0);
  const uint64_t seed = stream_position(attrs, "seed"), offset = stream_position(attrs, "offset");
  const double mean = attrs.number("mean"), std_dev = attrs.number("std");
  KDSR_CHECK(std_dev >= 0, attrs.op(), "std must not be negative, got ", std_dev);
  Tensor y = random_output(attrs);
  CudaGuard guard(y.device());
  float* yp = y.data<float>();
  const float m = static_cast<float>(mean), s = static_cast<float>(std_dev);
  launch_elementwise(y.numel(), guard, attrs.op(), [=] __device__(int64_t i) {
    const philox::Words words = philox::stream_block(seed, offset + static_cast<uint64_t>(i / 4));
    yp[i] = philox::normal_value(words, static_cast<int>(i % 4), m, s);
  });
  return {y};
}

KDSR_REGISTER_KERNEL("random_uniform", "cuda", "cuda", ({DType::F32}), random_uniform_cuda);
KDSR_REGISTER_KERNEL("random_normal", "cuda", "cuda", ({DType::F32}), random_normal_cuda);

}  // namespace
}  // namespace kdsr
