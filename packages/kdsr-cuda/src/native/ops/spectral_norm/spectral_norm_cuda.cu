// Spectral normalisation forward and backward on CUDA devices (formulas in spectral_norm.h, shared
// with the CPU kernels). The power iteration is one block: the matrix-vector products, norms and
// sigma in double, in a fixed order (deterministic), with double scratch vectors in device memory;
// normalising the weight and the gradient are elementwise kernels reading sigma on the device.
#include "../../cuda/cuda_utils.cuh"
#include "spectral_norm.h"

namespace kdsr {
namespace {

constexpr int kThreads = 256;

// scratch: v' (cols), W v' (rows), sigma (1). Writes u_out, v_out, sigma_out.
__global__ void spectral_norm_power_kernel1(const float* w, const float* u, const float* v, int64_t rows, int64_t cols, bool training, double* scratch,
                                            float* u_out, float* v_out, float* sigma_out) {
  __shared__ double reduce[32];
  double* vv = scratch;
  double* wv = scratch + cols;
  if (training) {
    double sq = 0;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      double acc = 0;
      for (int64_t o = 0; o < rows; o++) acc += static_cast<double>(w[o * cols + j]) * static_cast<double>(u[o]);
      vv[j] = acc;
      sq += acc * acc;
    }
    const double inv = spectral_norm_inverse(block_sum(sq, reduce));
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) vv[j] *= inv;
  } else {
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) vv[j] = v[j];
  }
  __syncthreads();
  double sq = 0;
  for (int64_t o = threadIdx.x; o < rows; o += blockDim.x) {
    double acc = 0;
    for (int64_t j = 0; j < cols; j++) acc += static_cast<double>(w[o * cols + j]) * vv[j];
    wv[o] = acc;
    sq += acc * acc;
  }
  const double inv = spectral_norm_inverse(block_sum(sq, reduce));
  double part = 0;
  for (int64_t o = threadIdx.x; o < rows; o += blockDim.x) {
    const double uo = training ? wv[o] * inv : static_cast<double>(u[o]);
    u_out[o] = static_cast<float>(uo);
    part += uo * wv[o];
  }
  const double sigma = block_sum(part, reduce);
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) v_out[j] = static_cast<float>(vv[j]);
  if (threadIdx.x == 0) {
    scratch[cols + rows] = sigma;
    sigma_out[0] = static_cast<float>(sigma);
  }
}

// scratch: sigma = u'^T W v' and c = sum dWn * W.
__global__ void spectral_norm_backward_sums_kernel1(const float* dwn, const float* w, const float* u, const float* v, int64_t rows, int64_t cols,
                                                    double* scratch) {
  __shared__ double reduce[32];
  double sigma = 0, c = 0;
  for (int64_t o = threadIdx.x; o < rows; o += blockDim.x) {
    double row = 0;
    for (int64_t j = 0; j < cols; j++) {
      row += static_cast<double>(w[o * cols + j]) * static_cast<double>(v[j]);
      c += static_cast<double>(dwn[o * cols + j]) * static_cast<double>(w[o * cols + j]);
    }
    sigma += static_cast<double>(u[o]) * row;
  }
  sigma = block_sum(sigma, reduce);
  c = block_sum(c, reduce);
  if (threadIdx.x == 0) scratch[0] = sigma, scratch[1] = c;
}

Tensors spectral_norm_cuda(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 3);
  const Tensor& weight = in[0];
  const SpectralNormShape s = spectral_norm_shape(op, weight, in[1], in[2]);
  Tensor wn = Tensor::empty(weight.shape(), weight.dtype(), weight.device());
  Tensor u_new = Tensor::empty({s.rows}, weight.dtype(), weight.device());
  Tensor v_new = Tensor::empty({s.cols}, weight.dtype(), weight.device());
  Tensor sigma = Tensor::empty({1}, weight.dtype(), weight.device());
  Tensor scratch = Tensor::empty({s.cols + s.rows + 1}, DType::F64, weight.device());
  CudaGuard guard(weight.device());
  spectral_norm_power_kernel1<<<1, kThreads, 0, guard.stream()>>>(weight.data<float>(), in[1].data<float>(), in[2].data<float>(), s.rows, s.cols,
                                                                   attrs.flag("training"), scratch.data<double>(), u_new.data<float>(),
                                                                   v_new.data<float>(), sigma.data<float>());
  cudaCheckLaunch(op.c_str());
  const float* w = weight.data<float>();
  const double* sd = scratch.data<double>() + s.cols + s.rows;
  float* out = wn.data<float>();
  launch_elementwise(weight.numel(), guard, op, [=] __device__(int64_t i) { out[i] = static_cast<float>(static_cast<double>(w[i]) / sd[0]); });
  return {wn, u_new, v_new, sigma};
}

Tensors spectral_norm_backward_cuda(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 4);
  const Tensor& dwn = in[0];
  const Tensor& weight = in[1];
  const SpectralNormShape s = spectral_norm_shape(op, weight, in[2], in[3]);
  check_same_shape(op, dwn, weight, "dweight", "weight_orig");
  Tensor dw = Tensor::empty(weight.shape(), weight.dtype(), weight.device());
  Tensor scratch = Tensor::empty({2}, DType::F64, weight.device());
  CudaGuard guard(weight.device());
  const float* g = dwn.data<float>();
  const float* w = weight.data<float>();
  const float* u = in[2].data<float>();
  const float* v = in[3].data<float>();
  spectral_norm_backward_sums_kernel1<<<1, kThreads, 0, guard.stream()>>>(g, w, u, v, s.rows, s.cols, scratch.data<double>());
  cudaCheckLaunch(op.c_str());
  const double* sums = scratch.data<double>();
  float* out = dw.data<float>();
  const int64_t cols = s.cols;
  launch_elementwise(weight.numel(), guard, op, [=] __device__(int64_t i) { out[i] = spectral_norm_grad(g[i], u[i / cols], v[i % cols], sums[0], sums[1]); });
  return {dw};
}

KDSR_REGISTER_KERNEL("spectral_norm", "cuda", "cuda", ({DType::F32}), spectral_norm_cuda);
KDSR_REGISTER_KERNEL("spectral_norm_backward", "cuda", "cuda", ({DType::F32}), spectral_norm_backward_cuda);

}  // namespace
}  // namespace kdsr
