// One fused Adam / AdamW step over many parameters on a CUDA device (the formula and checks are in
// adam_update.h, shared with the CPU kernel). Multi-tensor: each launch covers up to kMaxTensors
// parameters, its blocks split into fixed-size chunks of them, so a model with ~100 parameter tensors
// takes a handful of launches instead of hundreds. The tensor table travels as a kernel argument.
#include "../../cuda/cuda_common.h"
#include "adam_update.h"

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

// ----------------------------------------------------------------------------
// CUDA kernels

__global__ void adam_update_kernel1(AdamTable table, AdamStep<float> step) {
  int t = 0;
  while (t + 1 < table.count && blockIdx.x >= table.first_chunk[t + 1]) t++;
  const int64_t begin = (blockIdx.x - table.first_chunk[t]) * kChunk;
  const int64_t end = min(begin + kChunk, table.n[t]);
  float* p = table.p[t];
  const float* g = table.g[t];
  float* m = table.m[t];
  float* v = table.v[t];
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) step.apply(p[i], g[i], m[i], v[i]);
}

// ----------------------------------------------------------------------------
// Kernel launchers

Tensors adam_update_cuda(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  const size_t n = check_adam_tensors(in, op);
  const AdamStep<float> step = adam_step(attrs).to<float>();
  if (n == 0) return {};

  CudaGuard guard(in[0].device());
  AdamTable table{};
  auto flush = [&]() {
    if (table.count == 0) return;
    adam_update_kernel1<<<static_cast<unsigned int>(table.first_chunk[table.count]), kThreads, 0, guard.stream()>>>(table, step);
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
