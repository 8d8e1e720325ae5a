// What the CUDA backend provides to the device-independent core. The CUDA module (kdsr_cuda_backend.so,
// core/cuda_module.h) registers it when the addon loads the module; without it, every request for a
// 'cuda:N' device fails with an error that says why.
#pragma once
#include <cstddef>
#include <string>

#include "allocator.h"
#include "tensor.h"

namespace kdsr {

struct CudaBackend {
  int (*device_count)();                      // 0 when there is no driver or no GPU
  std::string (*unavailable_reason)();        // why device_count() is 0, for error messages
  std::string (*device_name)(int index);
  Allocator& (*allocator)(int index);         // validates the index, throws when unusable
  // Copies bytes between host and device memory (either side may be the host). Waits for the copy
  // when host memory is involved; a copy within one device is queued on its stream like any kernel.
  void (*copy)(void* dst, const Device& dst_device, const void* src, const Device& src_device, size_t bytes);
  void (*synchronize)(int index);
};

void register_cuda_backend(const CudaBackend* backend);
// The CUDA backend when its module is loaded, else null (for listing devices).
const CudaBackend* cuda_backend_if_loaded();
// The backend serving a CUDA device; throws when it is not loaded or the device does not exist.
const CudaBackend& cuda_backend(const Device& device);

// A copy of t on another device (or the same one).
Tensor copy_to_device(const Tensor& t, const Device& device);
// Copies t's bytes into host memory at dst (t.nbytes() bytes).
void copy_to_host(const Tensor& t, void* dst);
// Copies host memory into t.
void copy_from_host(const Tensor& t, const void* src);

// Float32 math of cuDNN convolutions and cuBLAS matrix products on CUDA devices: TF32 tensor cores
// (the default, faster) or strict FP32 (what the test suite uses, to compare with the CPU).
enum class CudaMath { TF32, FP32 };
void set_cuda_math(CudaMath math);
CudaMath cuda_math();
CudaMath parse_cuda_math(const std::string& s);
const char* cuda_math_name(CudaMath math);

}  // namespace kdsr
