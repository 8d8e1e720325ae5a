// One fused Adam / AdamW step over many parameters on a CUDA device (see adam_update_cpu.cc for the
// formula, PyTorch's torch.optim.Adam / AdamW). Multi-tensor: each launch covers up to kMaxTensors
// parameters, its blocks split into fixed-size chunks of them, so a model with ~100 parameter tensors
// takes a handful of launches instead of hundreds. The tensor table travels as a kernel argument.
#include <cmath>
#include <set>

#include "../../cuda/cuda_common.h"
#include "../common/checks.h"

namespace kdsr {
namespace {

constexpr int kMaxTensors = 24;   // keeps the table (about 1.2 KB) well inside the 4 KB argument space
constexpr int kThreads = 256;
constexpr int64_t kChunk = 4096;  // elements per block

struct AdamTable {
  float* p[kMaxTensors];
  const float* g[kMaxTensors];
  float* m[kMaxTensors];
  float* v[kMaxTensors];
  int64_t n[kMaxTensors];
  int64_t first_chunk[kMaxTensors + 1];  // block b works on tensor t where first_chunk[t] <= b < first_chunk[t + 1]
  int count;
};

struct AdamScalars {
  float b1, b2, wd, eps, step_size, bc2_sqrt, shrink;
  bool decoupled;
};

// ----------------------------------------------------------------------------
// CUDA kernels

__global__ void adam_update_kernel1(AdamTable table, AdamScalars s) {
  int t = 0;
  while (t + 1 < table.count && blockIdx.x >= table.first_chunk[t + 1]) t++;
  const int64_t begin = (blockIdx.x - table.first_chunk[t]) * kChunk;
  const int64_t end = min(begin + kChunk, table.n[t]);
  float* p = table.p[t];
  const float* g = table.g[t];
  float* m = table.m[t];
  float* v = table.v[t];
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    float grad = g[i];
    float param = p[i];
    if (s.decoupled) {
      param *= s.shrink;
    } else {
      grad += s.wd * param;
    }
    const float mi = s.b1 * m[i] + (1 - s.b1) * grad;
    const float vi = s.b2 * v[i] + (1 - s.b2) * grad * grad;
    m[i] = mi;
    v[i] = vi;
    p[i] = param - s.step_size * mi / (sqrtf(vi) / s.bc2_sqrt + s.eps);
  }
}

// ----------------------------------------------------------------------------
// Kernel launchers

Tensors adam_update_cuda(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  KDSR_CHECK(in.size() % 4 == 0, op, "expected 4 lists of n tensors (params, grads, exp_avg, exp_avg_sq), got ", in.size(), " inputs");
  const size_t n = in.size() / 4;
  const double lr = attrs.number("lr"), beta1 = attrs.number("beta1"), beta2 = attrs.number("beta2"), eps = attrs.number("eps");
  const double weight_decay = attrs.number("weight_decay");
  const bool decoupled = attrs.flag("decoupled");
  const int64_t step = attrs.integer("step");
  KDSR_CHECK(step >= 1, op, "step counts from 1, got ", step);
  KDSR_CHECK(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, op, "beta1 and beta2 must be in [0, 1), got ", beta1, " and ", beta2);
  KDSR_CHECK(lr >= 0 && eps >= 0 && weight_decay >= 0, op, "lr, eps and weight_decay must not be negative");
  std::set<const void*> written;  // in-place tensors must not share memory, or updates would mix
  for (size_t k = 0; k < n; k++) {
    const Tensor& p = in[k];
    const char* names[4] = {"param", "grad", "exp_avg", "exp_avg_sq"};
    for (size_t list = 0; list < 4; list++) {
      const Tensor& t = in[list * n + k];
      KDSR_CHECK(t.defined(), op, names[list], " ", k, " is missing");
      KDSR_CHECK(t.shape() == p.shape() && t.dtype() == p.dtype() && t.device() == p.device(), op, names[list], " ", k, " ", shape_str(t.shape()),
                 " does not match param ", k, " ", shape_str(p.shape()));
      if (list != 1 && t.numel() > 0) KDSR_CHECK(written.insert(t.raw()).second, op, names[list], " ", k, " shares memory with another updated tensor");
    }
  }
  if (n == 0) return {};

  AdamScalars s;
  s.b1 = static_cast<float>(beta1);
  s.b2 = static_cast<float>(beta2);
  s.wd = static_cast<float>(weight_decay);
  s.eps = static_cast<float>(eps);
  s.step_size = static_cast<float>(lr / (1 - std::pow(beta1, static_cast<double>(step))));
  s.bc2_sqrt = static_cast<float>(std::sqrt(1 - std::pow(beta2, static_cast<double>(step))));
  s.shrink = static_cast<float>(1 - lr * weight_decay);
  s.decoupled = decoupled;

  CudaGuard guard(in[0].device());
  AdamTable table{};
  auto flush = [&]() {
    if (table.count == 0) return;
    adam_update_kernel1<<<static_cast<unsigned int>(table.first_chunk[table.count]), kThreads, 0, guard.stream()>>>(table, s);
    cudaCheckLaunch(op.c_str());
    table = AdamTable{};
  };
  for (size_t k = 0; k < n; k++) {
    if (in[k].numel() == 0) continue;
    int t = table.count;
    table.p[t] = in[k].data<float>();
    table.g[t] = in[n + k].data<float>();
    table.m[t] = in[2 * n + k].data<float>();
    table.v[t] = in[3 * n + k].data<float>();
    table.n[t] = in[k].numel();
    table.first_chunk[t + 1] = table.first_chunk[t] + CEIL_DIV(in[k].numel(), kChunk);
    table.count++;
    if (table.count == kMaxTensors) flush();
  }
  flush();
  return {};
}

KDSR_REGISTER_KERNEL("adam_update", "cuda", "cuda", ({DType::F32}), adam_update_cuda);

}  // namespace
}  // namespace kdsr
