// The CUDA backend's hooks (core/backend.h): devices, their streams and caching allocators, copies.
// Registered when the addon loads this module; nothing here calls CUDA until a cuda device is first
// asked for, and a machine without a driver or GPU just reports zero devices (with the reason).
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <memory>
#include <mutex>
#include <vector>

#include "../core/backend.h"
#include "../core/caching_allocator.h"
#include "cuda_common.h"

namespace kdsr {

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* what, const char* file, int line) {
  std::string message = concat("Error in ", what, ": CUDA error ", cudaGetErrorName(status), " (", cudaGetErrorString(status), ") at ", file, ":", line);
  if (status == cudaErrorMemoryAllocation) throw OutOfMemory(message);
  throw Error(message);
}

namespace {

struct DeviceState {
  cudaStream_t stream = nullptr;
  std::unique_ptr<CachingAllocator> allocator;
  cudaDeviceProp props{};
};

struct Devices {
  std::once_flag probed;
  int count = 0;
  std::string reason;
  std::mutex mutex;
  std::vector<std::unique_ptr<DeviceState>> states;
};

Devices& devices() {
  static Devices* d = new Devices();  // never destroyed: tensors may be released during process exit
  std::call_once(d->probed, [] {
    int count = 0;
    cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      d->reason = concat("cudaGetDeviceCount: ", cudaGetErrorString(status), " [", cudaGetErrorName(status), "]");
      cudaGetLastError();  // clear it: the process goes on CPU-only
      count = 0;
      // The runtime says "driver version is insufficient" when there is no driver at all: say which.
      if (void* driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL)) {
        dlclose(driver);
      } else {
        d->reason = concat("no NVIDIA driver: ", dlerror(), " (", d->reason, ")");
      }
    } else if (count == 0) {
      d->reason = "the CUDA driver reports no devices";
    }
    d->count = count;
    d->states.resize(count);
  });
  return *d;
}

int device_count() { return devices().count; }

std::string unavailable_reason() { return devices().reason; }

std::string describe_memory(int index) {
  int previous = 0;
  cudaGetDevice(&previous);
  cudaSetDevice(index);
  size_t free = 0, total = 0;
  cudaError_t status = cudaMemGetInfo(&free, &total);
  cudaSetDevice(previous);
  if (status != cudaSuccess) return concat("device memory unknown (", cudaGetErrorString(status), ")");
  return concat("the device has ", free >> 20, " MiB free of ", total >> 20, " MiB");
}

DeviceState& state(int index) {
  Devices& d = devices();
  if (index < 0 || index >= d.count) {
    throw Error(concat("device 'cuda:", index, "' is not available: ",
                       d.count == 0 ? concat("no usable CUDA GPU was found (", d.reason, ")") : concat("only ", d.count, " CUDA device(s) found")));
  }
  std::lock_guard<std::mutex> lock(d.mutex);
  std::unique_ptr<DeviceState>& s = d.states[index];
  if (!s) {
    auto fresh = std::make_unique<DeviceState>();
    int previous = 0;
    cudaCheck(cudaGetDevice(&previous), "cuda");
    cudaCheck(cudaSetDevice(index), "cuda");
    cudaCheck(cudaGetDeviceProperties(&fresh->props, index), "cuda");
    cudaCheck(cudaStreamCreateWithFlags(&fresh->stream, cudaStreamNonBlocking), "cuda");
    cudaCheck(cudaSetDevice(previous), "cuda");
    RawMemory raw;
    raw.allocate = [index](size_t bytes) -> void* {
      int previous = 0;
      cudaGetDevice(&previous);
      cudaSetDevice(index);
      void* p = nullptr;
      cudaError_t status = cudaMalloc(&p, bytes);
      if (status != cudaSuccess) {
        cudaGetLastError();  // out of memory is not sticky; clear it for the next call
        p = nullptr;
      }
      cudaSetDevice(previous);
      return p;
    };
    raw.release = [index](void* p) {
      int previous = 0;
      cudaGetDevice(&previous);
      cudaSetDevice(index);
      cudaFree(p);  // synchronises the device, so no queued kernel still uses the memory
      cudaSetDevice(previous);
    };
    raw.describe = [index]() { return describe_memory(index); };
    fresh->allocator = std::make_unique<CachingAllocator>(concat("cuda:", index), std::move(raw));
    s = std::move(fresh);
  }
  return *s;
}

std::string device_name(int index) {
  const cudaDeviceProp& p = state(index).props;
  return concat(p.name, " (sm_", p.major, p.minor, ", ", p.totalGlobalMem >> 20, " MiB)");
}

Allocator& allocator(int index) { return *state(index).allocator; }

void copy(void* dst, const Device& dst_device, const void* src, const Device& src_device, size_t bytes) {
  if (bytes == 0) return;
  bool dst_cuda = dst_device.type == DeviceType::CUDA, src_cuda = src_device.type == DeviceType::CUDA;
  if (dst_cuda && src_cuda && dst_device.index != src_device.index) {
    // Between GPUs: wait for both queues, copy, wait (rare: only explicit to('cuda:N')).
    cudaCheck(cudaStreamSynchronize(state(dst_device.index).stream), "copy");
    CudaGuard guard(src_device);
    cudaCheck(cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, bytes, guard.stream()), "copy");
    cudaCheck(cudaStreamSynchronize(guard.stream()), "copy");
    return;
  }
  CudaGuard guard(dst_cuda ? dst_device : src_device);
  cudaMemcpyKind kind = dst_cuda && src_cuda ? cudaMemcpyDeviceToDevice : dst_cuda ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost;
  cudaCheck(cudaMemcpyAsync(dst, src, bytes, kind, guard.stream()), "copy");
  // Host memory (a JS typed array) must not be touched after we return; device-to-device stays queued.
  if (kind != cudaMemcpyDeviceToDevice) cudaCheck(cudaStreamSynchronize(guard.stream()), "copy");
}

void synchronize(int index) {
  CudaGuard guard(Device{DeviceType::CUDA, index});
  cudaCheck(cudaStreamSynchronize(guard.stream()), "synchronize");
}

const CudaBackend backend{device_count, unavailable_reason, device_name, allocator, copy, synchronize};

struct Registration {
  Registration() { register_cuda_backend(&backend); }
} registration;

}  // namespace

cudaStream_t cuda_stream(int device) { return state(device).stream; }

CudaGuard::CudaGuard(const Device& device) : device_(device.index), stream_(state(device.index).stream) {
  cudaCheck(cudaGetDevice(&previous_), "cuda");
  if (previous_ != device_) cudaCheck(cudaSetDevice(device_), "cuda");
}

CudaGuard::~CudaGuard() {
  if (previous_ >= 0 && previous_ != device_) cudaSetDevice(previous_);
}

int cuda_sm_count(int device) { return state(device).props.multiProcessorCount; }

size_t cuda_max_shared_memory(int device) { return state(device).props.sharedMemPerBlockOptin; }

}  // namespace kdsr
