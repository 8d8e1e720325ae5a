// pixel_shuffle and pixel_unshuffle on CUDA devices (the layout correspondence is in
// sub_pixel_layout.h, shared with the CPU kernels). One thread per output element: writes coalesced,
// reads strided by r.
#include "../../cuda/cuda_utils.cuh"
#include "sub_pixel_layout.h"

namespace kdsr {
namespace {

Tensors pixel_shuffle_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  Shape shape;
  const SubPixelLayout layout = pixel_shuffle_layout(attrs, x, shape);
  Tensor y = Tensor::empty(shape, x.dtype(), x.device());
  CudaGuard guard(x.device());
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  launch_elementwise(y.numel(), guard, attrs.op(), [=] __device__(int64_t o) { yp[o] = xp[layout.packed_of_spread(o)]; });
  return {y};
}

Tensors pixel_unshuffle_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  Shape shape;
  const SubPixelLayout layout = pixel_unshuffle_layout(attrs, x, shape);
  Tensor y = Tensor::empty(shape, x.dtype(), x.device());
  CudaGuard guard(x.device());
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  launch_elementwise(y.numel(), guard, attrs.op(), [=] __device__(int64_t o) { yp[o] = xp[layout.spread_of_packed(o)]; });
  return {y};
}

KDSR_REGISTER_KERNEL("pixel_shuffle", "cuda", "cuda", ({DType::F32}), pixel_shuffle_cuda);
KDSR_REGISTER_KERNEL("pixel_unshuffle", "cuda", "cuda", ({DType::F32}), pixel_unshuffle_cuda);

}  // namespace
}  // namespace kdsr
