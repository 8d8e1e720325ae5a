// Spectral normalisation forward and backward on the CPU (formulas in spectral_norm.h, shared with
// the CUDA kernels). The power iteration's matrix-vector products and norms run in double on one
// thread (the matrices are at most a few thousand columns); normalising the weight is parallel.
#include <vector>

#include "../../core/parallel.h"
#include "spectral_norm.h"

namespace kdsr {
namespace {

Tensors spectral_norm_forward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 3);
  const Tensor& weight = in[0];
  const SpectralNormShape s = spectral_norm_shape(op, weight, in[1], in[2]);
  const bool training = attrs.flag("training");
  Tensor wn = Tensor::empty(weight.shape(), weight.dtype(), weight.device());
  Tensor u_new = Tensor::empty({s.rows}, weight.dtype(), weight.device());
  Tensor v_new = Tensor::empty({s.cols}, weight.dtype(), weight.device());
  Tensor sigma_out = Tensor::empty({1}, weight.dtype(), weight.device());
  dispatch_dtype(weight.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* w = weight.data<T>();
    const T* u = in[1].data<T>();
    const T* v = in[2].data<T>();
    std::vector<double> vv(s.cols), wv(s.rows), uu(s.rows);
    if (training) {
      double sq = 0;
      for (int64_t j = 0; j < s.cols; j++) vv[j] = 0;
      for (int64_t o = 0; o < s.rows; o++)
        for (int64_t j = 0; j < s.cols; j++) vv[j] += static_cast<double>(w[o * s.cols + j]) * static_cast<double>(u[o]);
      for (int64_t j = 0; j < s.cols; j++) sq += vv[j] * vv[j];
      const double inv = spectral_norm_inverse(sq);
      for (int64_t j = 0; j < s.cols; j++) vv[j] *= inv;
    } else {
      for (int64_t j = 0; j < s.cols; j++) vv[j] = v[j];
    }
    double sq = 0;
    for (int64_t o = 0; o < s.rows; o++) {
      double acc = 0;
      for (int64_t j = 0; j < s.cols; j++) acc += static_cast<double>(w[o * s.cols + j]) * vv[j];
      wv[o] = acc;
      sq += acc * acc;
    }
    const double inv = spectral_norm_inverse(sq);
    double sigma = 0;
    for (int64_t o = 0; o < s.rows; o++) {
      uu[o] = training ? wv[o] * inv : static_cast<double>(u[o]);
      sigma += uu[o] * wv[o];
    }
    T* up = u_new.data<T>();
    T* vp = v_new.data<T>();
    for (int64_t o = 0; o < s.rows; o++) up[o] = static_cast<T>(uu[o]);
    for (int64_t j = 0; j < s.cols; j++) vp[j] = static_cast<T>(vv[j]);
    sigma_out.data<T>()[0] = static_cast<T>(sigma);
    T* out = wn.data<T>();
    parallel_for_range(weight.numel(), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; i++) out[i] = static_cast<T>(static_cast<double>(w[i]) / sigma);
    });
  });
  return {wn, u_new, v_new, sigma_out};
}

Tensors spectral_norm_backward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 4);
  const Tensor& dwn = in[0];
  const Tensor& weight = in[1];
  const SpectralNormShape s = spectral_norm_shape(op, weight, in[2], in[3]);
  check_same_shape(op, dwn, weight, "dweight", "weight_orig");
  KDSR_CHECK(dwn.dtype() == weight.dtype(), op, "dweight and weight_orig must have the same dtype");
  Tensor dw = Tensor::empty(weight.shape(), weight.dtype(), weight.device());
  dispatch_dtype(weight.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* w = weight.data<T>();
    const T* g = dwn.data<T>();
    const T* u = in[2].data<T>();
    const T* v = in[3].data<T>();
    // sigma = u'^T W v' recomputed from the saved u', v'; c = sum dWn * W.
    double sigma = 0, c = 0;
    for (int64_t o = 0; o < s.rows; o++) {
      double row = 0;
      for (int64_t j = 0; j < s.cols; j++) {
        row += static_cast<double>(w[o * s.cols + j]) * static_cast<double>(v[j]);
        c += static_cast<double>(g[o * s.cols + j]) * static_cast<double>(w[o * s.cols + j]);
      }
      sigma += static_cast<double>(u[o]) * row;
    }
    T* out = dw.data<T>();
    parallel_for_range(weight.numel(), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; i++) out[i] = spectral_norm_grad(g[i], u[i / s.cols], v[i % s.cols], sigma, c);
    });
  });
  return {dw};
}

KDSR_REGISTER_KERNEL("spectral_norm", "cpu", "reference", ({DType::F32, DType::F64}), spectral_norm_forward);
KDSR_REGISTER_KERNEL("spectral_norm_backward", "cpu", "reference", ({DType::F32, DType::F64}), spectral_norm_backward);

}  // namespace
}  // namespace kdsr
