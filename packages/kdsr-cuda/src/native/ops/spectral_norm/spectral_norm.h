// Spectral normalisation of a weight (torch.nn.utils.spectral_norm), as the CPU and CUDA kernels
// share it. W = weight_orig viewed as a (rows = dim 0) x (cols = the rest) matrix, u (rows), v (cols),
// normalize(z) = z / max(|z|, 1e-12). Training: one power iteration, v first, then u:
// v' = normalize(W^T u), u' = normalize(W v') (the old v is not read); eval: u' = u, v' = v. Then
// sigma = u'^T W v' and weight = W / sigma. For the backward u' and v' are constants (as in PyTorch):
// d weight_orig = dWn / sigma - (sum dWn * W) / sigma^2 * u' v'^T.
#pragma once
#include <algorithm>
#include <cmath>

#include "../common/checks.h"
#include "../common/host_device.h"

namespace kdsr {

constexpr double kSpectralNormEps = 1e-12;

struct SpectralNormShape {
  int64_t rows, cols;
};

inline SpectralNormShape spectral_norm_shape(const std::string& op, const Tensor& weight, const Tensor& u, const Tensor& v) {
  KDSR_CHECK(weight.defined() && u.defined() && v.defined(), op, "weight_orig, u and v are required");
  KDSR_CHECK(weight.rank() >= 2, op, "weight_orig must have rank 2 or more, got shape ", shape_str(weight.shape()));
  const int64_t rows = weight.dim(0), cols = weight.numel() / std::max<int64_t>(rows, 1);
  KDSR_CHECK(rows > 0 && cols > 0, op, "weight_orig ", shape_str(weight.shape()), " is empty");
  KDSR_CHECK(u.rank() == 1 && u.dim(0) == rows, op, "u must have shape [", rows, "] for weight_orig ", shape_str(weight.shape()), ", got ", shape_str(u.shape()));
  KDSR_CHECK(v.rank() == 1 && v.dim(0) == cols, op, "v must have shape [", cols, "] for weight_orig ", shape_str(weight.shape()), ", got ", shape_str(v.shape()));
  KDSR_CHECK(u.dtype() == weight.dtype() && v.dtype() == weight.dtype(), op, "weight_orig, u and v must have the same dtype");
  return SpectralNormShape{rows, cols};
}

// 1 / max(norm, eps) for a squared norm.
KDSR_HOST_DEVICE inline double spectral_norm_inverse(double squared_norm) {
  using std::sqrt;
  const double norm = sqrt(squared_norm);
  return 1.0 / (norm > kSpectralNormEps ? norm : kSpectralNormEps);
}

// d weight_orig for element (o, j): dWn / sigma - c / sigma^2 * u'[o] v'[j], c = sum dWn * W.
template <typename T>
KDSR_HOST_DEVICE T spectral_norm_grad(T dwn, T u, T v, double sigma, double c) {
  return static_cast<T>(static_cast<double>(dwn) / sigma - c / (sigma * sigma) * static_cast<double>(u) * static_cast<double>(v));
}

}  // namespace kdsr
