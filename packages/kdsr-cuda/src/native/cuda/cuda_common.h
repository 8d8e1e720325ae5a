// Plumbing shared by the CUDA backend's host code and kernels (llm.c's cuda_common.h): error checks
// that name the op and file:line, the per-device stream, and launch helpers. Every op enqueues on its
// device's one stream and returns at once; only reading a tensor back waits.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "../core/error.h"
#include "../core/tensor.h"

namespace kdsr {

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* what, const char* file, int line);

// The stream every kernel of a device is queued on (created on first use).
cudaStream_t cuda_stream(int device);

// Makes `device` current for this thread for the guard's lifetime, and gives its stream.
class CudaGuard {
 public:
  explicit CudaGuard(const Device& device);
  ~CudaGuard();
  CudaGuard(const CudaGuard&) = delete;
  CudaGuard& operator=(const CudaGuard&) = delete;
  cudaStream_t stream() const { return stream_; }
  int device() const { return device_; }

 private:
  int previous_ = -1;
  int device_;
  cudaStream_t stream_;
};

// Number of streaming multiprocessors and the opt-in shared memory limit per block, cached.
int cuda_sm_count(int device);
size_t cuda_max_shared_memory(int device);

// Launch configuration for elementwise kernels: enough blocks to fill the GPU, capped (grid-stride loops).
inline unsigned int elementwise_blocks(int64_t n, int threads, int device) {
  int64_t wanted = (n + threads - 1) / threads;
  int64_t cap = static_cast<int64_t>(cuda_sm_count(device)) * 32;
  return static_cast<unsigned int>(wanted < 1 ? 1 : wanted < cap ? wanted : cap);
}

}  // namespace kdsr

#define CEIL_DIV(a, b) (((a) + (b) - 1) / (b))

// cudaCheck(cudaMemcpyAsync(...), "op"): throws "Error in op: CUDA error ... at file:line".
#define cudaCheck(call, what)                                                          \
  do {                                                                                 \
    cudaError_t kdsr_status_ = (call);                                                 \
    if (kdsr_status_ != cudaSuccess) ::kdsr::throw_cuda_error(kdsr_status_, what, __FILE__, __LINE__); \
  } while (0)

// After a <<<...>>> launch: reports a bad configuration (or an earlier asynchronous fault).
#define cudaCheckLaunch(what) cudaCheck(cudaGetLastError(), what)
