#include "allocator.h"

#include <unistd.h>

#include <cstdlib>

#include "backend.h"
#include "caching_allocator.h"

namespace kdsr {
namespace {

// Host memory for the caching allocator: 64-byte aligned segments (vector loads, oneDNN; blocks
// carved from them are multiples of 512 bytes, so they stay aligned).
RawMemory host_memory() {
  RawMemory raw;
  raw.allocate = [](size_t bytes) { return std::aligned_alloc(64, bytes); };
  raw.release = [](void* ptr) { std::free(ptr); };
  raw.describe = []() {
    const long page = sysconf(_SC_PAGESIZE), total = sysconf(_SC_PHYS_PAGES), available = sysconf(_SC_AVPHYS_PAGES);
    if (page <= 0 || total <= 0 || available < 0) return std::string("host memory size unknown");
    return concat("the host has ", (available * page) >> 20, " MiB free of ", (total * page) >> 20, " MiB");
  };
  return raw;
}

}  // namespace

Allocator& allocator_for(const Device& device) {
  // One host allocator for the process: memory is shared by every addon instance (worker threads).
  // It caches: glibc maps every block above 32 MiB afresh and page-faults it on first touch (about
  // 210 ms per 64 MiB on the dev VM, BENCHMARKS.md), which dominated large ops. Never destroyed:
  // tensors may still be released during process exit.
  static CachingAllocator* cpu = new CachingAllocator("cpu", host_memory());
  if (device.type == DeviceType::CPU) return *cpu;
  return cuda_backend(device).allocator(device.index);
}

}  // namespace kdsr
