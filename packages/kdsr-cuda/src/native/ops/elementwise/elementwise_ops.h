// add, sub, mul, scale and axpy as the CPU and CUDA kernels share them: the input checks of the
// binary ops, and each op's per-element formula as a functor (callable from host and device code).
// Their gradients are composites of these same ops (see op-table.json): no backward kernels.
#pragma once
#include "../common/checks.h"
#include "../common/host_device.h"

namespace kdsr {

inline void check_binary(const std::string& op, const Tensor& a, const Tensor& b, const char* a_name, const char* b_name) {
  KDSR_CHECK(a.defined() && b.defined(), op, a_name, " and ", b_name, " are required");
  check_same_shape(op, a, b, a_name, b_name);
}

struct AddOp {
  template <typename T>
  KDSR_HOST_DEVICE T operator()(T x, T y) const { return x + y; }
};

struct SubOp {
  template <typename T>
  KDSR_HOST_DEVICE T operator()(T x, T y) const { return x - y; }
};

struct MulOp {
  template <typename T>
  KDSR_HOST_DEVICE T operator()(T x, T y) const { return x * y; }
};

// alpha * x + y, alpha rounded to the inputs' type.
struct AxpyOp {
  double alpha;
  template <typename T>
  KDSR_HOST_DEVICE T operator()(T x, T y) const { return static_cast<T>(alpha) * x + y; }
};

// alpha * x.
template <typename T>
KDSR_HOST_DEVICE T scale_value(T x, T alpha) {
  return alpha * x;
}

}  // namespace kdsr
