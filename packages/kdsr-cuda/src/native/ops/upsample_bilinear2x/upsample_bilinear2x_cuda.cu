// Bilinear x2 up-sampling and its backward on CUDA devices, one thread per output (forward) or per
// input element (backward, a gather: no atomics, deterministic); formulas in upsample_bilinear2x.h,
// shared with the CPU kernels.
#include "../../cuda/cuda_utils.cuh"
#include "upsample_bilinear2x.h"

namespace kdsr {
namespace {

Tensors upsample_bilinear2x_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  check_upsample_input(attrs.op(), x, "x");
  const int64_t h = x.dim(2), w = x.dim(3);
  Tensor y = Tensor::empty({x.dim(0), x.dim(1), 2 * h, 2 * w}, x.dtype(), x.device());
  CudaGuard guard(x.device());
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  launch_elementwise(y.numel(), guard, attrs.op(), [=] __device__(int64_t i) {
    const int64_t plane = i / (4 * h * w), rc = i % (4 * h * w);
    yp[i] = bilinear2x_value(xp + plane * h * w, h, w, rc / (2 * w), rc % (2 * w));
  });
  return {y};
}

Tensors upsample_bilinear2x_backward_cuda(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 1);
  const Tensor& dy = in[0];
  check_upsample_input(op, dy, "dy");
  KDSR_CHECK(dy.dim(2) % 2 == 0 && dy.dim(3) % 2 == 0, op, "dy must have even height and width, got ", shape_str(dy.shape()));
  const int64_t h = dy.dim(2) / 2, w = dy.dim(3) / 2;
  Tensor dx = Tensor::empty({dy.dim(0), dy.dim(1), h, w}, dy.dtype(), dy.device());
  CudaGuard guard(dy.device());
  const float* dyp = dy.data<float>();
  float* dxp = dx.data<float>();
  launch_elementwise(dx.numel(), guard, op, [=] __device__(int64_t i) {
    const int64_t plane = i / (h * w), ij = i % (h * w);
    dxp[i] = bilinear2x_grad(dyp + plane * 4 * h * w, h, w, ij / w, ij % w);
  });
  return {dx};
}

KDSR_REGISTER_KERNEL("upsample_bilinear2x", "cuda", "cuda", ({DType::F32}), upsample_bilinear2x_cuda);
KDSR_REGISTER_KERNEL("upsample_bilinear2x_backward", "cuda", "cuda", ({DType::F32}), upsample_bilinear2x_backward_cuda);

}  // namespace
}  // namespace kdsr
