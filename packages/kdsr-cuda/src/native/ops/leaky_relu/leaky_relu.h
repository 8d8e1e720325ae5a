// LeakyReLU's per-element formulas, shared by the CPU and CUDA kernels: y = x > 0 ? x : slope * x,
// dx = x > 0 ? dy : slope * dy.
#pragma once
#include "../common/host_device.h"

namespace kdsr {

template <typename T>
KDSR_HOST_DEVICE T leaky_relu_value(T x, T slope) {
  return x > 0 ? x : slope * x;
}

template <typename T>
KDSR_HOST_DEVICE T leaky_relu_grad(T dy, T x, T slope) {
  return x > 0 ? dy : slope * dy;
}

}  // namespace kdsr
