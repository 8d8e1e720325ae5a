// 2x2 max-pooling and its backward on CUDA devices, one thread per output (forward) or per input
// element (backward, a gather: deterministic); formulas in max_pool2x2.h, shared with the CPU kernels.
#include "../../cuda/cuda_utils.cuh"
#include "max_pool2x2.h"

namespace kdsr {
namespace {

Tensors max_pool2x2_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  check_max_pool_input(attrs.op(), x);
  const int64_t h = x.dim(2), w = x.dim(3), oh = h / 2, ow = w / 2;
  Tensor y = Tensor::empty({x.dim(0), x.dim(1), oh, ow}, x.dtype(), x.device());
  CudaGuard guard(x.device());
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  launch_elementwise(y.numel(), guard, attrs.op(), [=] __device__(int64_t i) {
    const int64_t plane = i / (oh * ow), rc = i % (oh * ow);
    yp[i] = max_pool2x2_value(xp + plane * h * w, w, rc / ow, rc % ow);
  });
  return {y};
}

Tensors max_pool2x2_backward_cuda(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 2);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  check_max_pool_input(op, x);
  const int64_t h = x.dim(2), w = x.dim(3);
  KDSR_CHECK(dy.shape() == Shape({x.dim(0), x.dim(1), h / 2, w / 2}), op, "dy must have shape [", x.dim(0), ",", x.dim(1), ",", h / 2, ",", w / 2,
             "], got ", shape_str(dy.shape()));
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  CudaGuard guard(x.device());
  const float* dyp = dy.data<float>();
  const float* xp = x.data<float>();
  float* dxp = dx.data<float>();
  launch_elementwise(dx.numel(), guard, op, [=] __device__(int64_t i) {
    const int64_t plane = i / (h * w), ij = i % (h * w);
    dxp[i] = max_pool2x2_grad(dyp + plane * (h / 2) * (w / 2), xp + plane * h * w, h, w, ij / w, ij % w);
  });
  return {dx};
}

KDSR_REGISTER_KERNEL("max_pool2x2", "cuda", "cuda", ({DType::F32}), max_pool2x2_cuda);
KDSR_REGISTER_KERNEL("max_pool2x2_backward", "cuda", "cuda", ({DType::F32}), max_pool2x2_backward_cuda);

}  // namespace
}  // namespace kdsr
