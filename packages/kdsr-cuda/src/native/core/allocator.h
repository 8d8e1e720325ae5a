// Device memory: one allocator per device, with statistics used by tests and leak checks.
// Both the CPU and each CUDA device use a CachingAllocator (caching_allocator.h) over their raw memory.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "device.h"

namespace kdsr {

struct MemoryStats {
  int64_t live_buffers = 0;
  int64_t live_bytes = 0;
  int64_t peak_bytes = 0;
  int64_t reserved_bytes = 0;  // held by a caching allocator, including free blocks
  int64_t allocations = 0;     // blocks handed out since the start (empty tensors excluded)
  int64_t segment_allocations = 0;  // of those, the ones that took new memory from the device (cache misses)
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t bytes) = 0;
  virtual void release(void* ptr, size_t bytes) = 0;
  virtual MemoryStats stats() const = 0;
  // Returns cached, unused memory to the device (a no-op for allocators that cache nothing).
  virtual void empty_cache() {}
  // Starts a new peak measurement: peak_bytes becomes live_bytes.
  virtual void reset_peak() = 0;
};

// The allocator of a device; throws a clear error when the device's backend is not available.
Allocator& allocator_for(const Device& device);

}  // namespace kdsr
