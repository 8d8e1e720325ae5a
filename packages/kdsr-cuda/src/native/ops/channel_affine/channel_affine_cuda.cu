// channel_affine and its backward on CUDA devices (see channel_affine_cpu.cc):
//   y = x * scale[c] + shift[c];  dx = dy * scale[c];
//   dscale[c] = sum_{b,h,w} dy * x,  dshift[c] = sum_{b,h,w} dy  (one block per channel, fixed order).
#include "../../cuda/cuda_utils.cuh"
#include "channel_affine_checks.h"

namespace kdsr {
namespace {

// ----------------------------------------------------------------------------
// CUDA kernels

__global__ void channel_affine_backward_params_kernel1(float* dscale, float* dshift, const float* dy, const float* x, int64_t batch, int64_t channels,
                                                       int64_t plane) {
  __shared__ double scratch[32];
  const int64_t c = blockIdx.x;
  double s_dy_x = 0.0, s_dy = 0.0;
  for (int64_t b = 0; b < batch; b++) {
    const int64_t base = (b * channels + c) * plane;
    for (int64_t i = threadIdx.x; i < plane; i += blockDim.x) {
      double g = dy[base + i];
      s_dy_x += g * x[base + i];
      s_dy += g;
    }
  }
  if (dscale) {
    double s = block_sum(s_dy_x, scratch);
    if (threadIdx.x == 0) dscale[c] = static_cast<float>(s);
  }
  if (dshift) {
    double s = block_sum(s_dy, scratch);
    if (threadIdx.x == 0) dshift[c] = static_cast<float>(s);
  }
}

// ----------------------------------------------------------------------------
// Kernel launchers

Tensors channel_affine_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 3);
  const Tensor& x = in[0];
  check_channel_affine(attrs.op(), x, in[1], in[2]);
  const int64_t channels = x.dim(1), plane = x.dim(2) * x.dim(3);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  CudaGuard guard(x.device());
  const float* xp = x.data<float>();
  const float* scale = in[1].data<float>();
  const float* shift = in[2].data<float>();
  float* yp = y.data<float>();
  launch_elementwise(x.numel(), guard, attrs.op(), [=] __device__(int64_t i) {
    int64_t c = (i / plane) % channels;
    yp[i] = xp[i] * scale[c] + shift[c];
  });
  return {y};
}

Tensors channel_affine_backward_cuda(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 3);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  const Tensor& scale = in[2];
  check_channel_affine_backward(op, dy, x, scale);
  const bool need_input = attrs.flag("need_input"), need_scale = attrs.flag("need_scale"), need_shift = attrs.flag("need_shift");
  const int64_t batch = x.dim(0), channels = x.dim(1), plane = x.dim(2) * x.dim(3);
  Tensor dx, dscale, dshift;
  CudaGuard guard(x.device());
  if (need_input) {
    dx = Tensor::empty(x.shape(), x.dtype(), x.device());
    const float* dyp = dy.data<float>();
    const float* sp = scale.data<float>();
    float* dxp = dx.data<float>();
    launch_elementwise(x.numel(), guard, op, [=] __device__(int64_t i) { dxp[i] = dyp[i] * sp[(i / plane) % channels]; });
  }
  if (need_scale) dscale = Tensor::empty({channels}, x.dtype(), x.device());
  if (need_shift) dshift = Tensor::empty({channels}, x.dtype(), x.device());
  if ((need_scale || need_shift) && channels > 0) {
    channel_affine_backward_params_kernel1<<<static_cast<unsigned int>(channels), 256, 0, guard.stream()>>>(
        need_scale ? dscale.data<float>() : nullptr, need_shift ? dshift.data<float>() : nullptr, dy.data<float>(), x.data<float>(), batch, channels, plane);
    cudaCheckLaunch(op.c_str());
  }
  return {dx, dscale, dshift};
}

KDSR_REGISTER_KERNEL("channel_affine", "cuda", "cuda", ({DType::F32}), channel_affine_cuda);
KDSR_REGISTER_KERNEL("channel_affine_backward", "cuda", "cuda", ({DType::F32}), channel_affine_backward_cuda);

}  // namespace
}  // namespace kdsr
