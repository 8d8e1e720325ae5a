#include "backend.h"

#include <atomic>
#include <cstring>

#include "cuda_module.h"

namespace kdsr {
namespace {
const CudaBackend* cuda = nullptr;
const Device host{DeviceType::CPU, 0};
std::atomic<CudaMath> math{CudaMath::TF32};
}  // namespace

void register_cuda_backend(const CudaBackend* backend) { cuda = backend; }

const CudaBackend* cuda_backend_if_loaded() { return cuda; }

const CudaBackend& cuda_backend(const Device& device) {
  if (!cuda) {
    const CudaModuleStatus& module = load_cuda_module();
    if (!module.present)
      throw Error(concat("device '", device.str(), "' is not available: this build of @kdsr/cuda was compiled without the CUDA backend (CPU only); rebuild on a machine with the CUDA toolkit and cuDNN 9"));
    throw Error(concat("device '", device.str(), "' is not available: the CUDA backend did not load: ", module.error));
  }
  int count = cuda->device_count();
  if (device.index >= count)
    throw Error(concat("device '", device.str(), "' is not available: ",
                       count == 0 ? concat("no usable CUDA GPU was found (", cuda->unavailable_reason(), ")") : concat("only ", count, " CUDA device(s) found")));
  return *cuda;
}

static void copy_bytes(void* dst, const Device& dst_device, const void* src, const Device& src_device, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.type == DeviceType::CPU && src_device.type == DeviceType::CPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
  cuda_backend(dst_device.type == DeviceType::CUDA ? dst_device : src_device).copy(dst, dst_device, src, src_device, bytes);
}

Tensor copy_to_device(const Tensor& t, const Device& device) {
  Tensor out = Tensor::empty(t.shape(), t.dtype(), device);
  copy_bytes(out.raw(), device, t.raw(), t.device(), t.nbytes());
  return out;
}

void copy_to_host(const Tensor& t, void* dst) { copy_bytes(dst, host, t.raw(), t.device(), t.nbytes()); }

void copy_from_host(const Tensor& t, const void* src) { copy_bytes(t.raw(), t.device(), src, host, t.nbytes()); }

void set_cuda_math(CudaMath m) { math = m; }

CudaMath cuda_math() { return math; }

CudaMath parse_cuda_math(const std::string& s) {
  if (s == "tf32") return CudaMath::TF32;
  if (s == "fp32") return CudaMath::FP32;
  throw Error(concat("unknown CUDA math mode '", s, "' (expected 'tf32' or 'fp32')"));
}

const char* cuda_math_name(CudaMath m) { return m == CudaMath::TF32 ? "tf32" : "fp32"; }

}  // namespace kdsr
