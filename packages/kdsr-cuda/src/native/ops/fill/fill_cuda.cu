// fill on CUDA devices: a new tensor on attrs.device holding attrs.value everywhere.
#include "../../cuda/cuda_utils.cuh"
#include "../common/checks.h"

namespace kdsr {
namespace {

Tensors fill_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 0);
  const Shape shape = attrs.integers("shape");
  for (int64_t d : shape) KDSR_CHECK(d >= 0, attrs.op(), "shape ", shape_str(shape), " has a negative dimension");
  Tensor y = Tensor::empty(shape, parse_dtype(attrs.string("dtype")), parse_device(attrs.string("device")));
  CudaGuard guard(y.device());
  const float value = static_cast<float>(attrs.number("value"));
  float* yp = y.data<float>();
  launch_elementwise(y.numel(), guard, attrs.op(), [=] __device__(int64_t i) { yp[i] = value; });
  return {y};
}

KDSR_REGISTER_KERNEL("fill", "cuda", "cuda", ({DType::F32}), fill_cuda);

}  // namespace
}  // namespace kdsr
