// The kernel registry: kernels are keyed by (op, backend, implementation), as in tfjs.
// Each op file registers its kernels with a static KernelRegistration; the dispatcher picks,
// for the device and dtype of the call, the preferred implementation that supports them.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "attrs.h"
#include "tensor.h"

namespace kdsr {

using Tensors = std::vector<Tensor>;
using KernelFn = std::function<Tensors(const Tensors& inputs, const Attrs& attrs)>;

struct KernelInfo {
  std::string op;
  std::string backend;  // "cpu" | "cuda"
  std::string impl;     // "reference" | "onednn" | "cuda"
  std::vector<DType> dtypes;
  KernelFn fn;
};

void register_kernel(KernelInfo info);
const std::vector<KernelInfo>& all_kernels();

// Runs op on the device of its first defined input (or attrs' "device" when it has no inputs).
Tensors run_kernel(const std::string& op, const Tensors& inputs, const Attrs& attrs);

// CPU implementation preference: "onednn" (use oneDNN kernels where registered) or "reference".
void set_cpu_preference(const std::string& impl);
std::string cpu_preference();

struct KernelRegistration {
  KernelRegistration(const char* op, const char* backend, const char* impl, std::vector<DType> dtypes, KernelFn fn) {
    register_kernel(KernelInfo{op, backend, impl, std::move(dtypes), std::move(fn)});
  }
};

}  // namespace kdsr

#define KDSR_CONCAT_INNER(a, b) a##b
#define KDSR_CONCAT(a, b) KDSR_CONCAT_INNER(a, b)
// KDSR_REGISTER_KERNEL("conv2d", "cpu", "reference", ({DType::F32, DType::F64}), conv2d_reference);
#define KDSR_REGISTER_KERNEL(op, backend, impl, dtypes, fn) \
  static ::kdsr::KernelRegistration KDSR_CONCAT(kdsr_kernel_registration_, __LINE__)(op, backend, impl, std::vector<::kdsr::DType> dtypes, fn)
