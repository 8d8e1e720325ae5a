#include "allocator.h"

#include "backend.h"

#include <cstdlib>
#include <new>

namespace kdsr {
namespace {

// Host memory, 64-byte aligned for vector loads and oneDNN.
class CpuAllocator : public Allocator {
 public:
  void* allocate(size_t bytes) override {
    size_t rounded = ((bytes + 63) / 64) * 64;
    void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
    if (!p) throw OutOfMemory(concat("out of memory on cpu: cannot allocate ", bytes, " bytes (", live_bytes_.load(), " bytes live)"));
    int64_t now = (live_bytes_ += static_cast<int64_t>(bytes));
    live_buffers_++;
    int64_t peak = peak_bytes_.load();
    while (now > peak && !peak_bytes_.compare_exchange_weak(peak, now)) {
    }
    return p;
  }
  void release(void* ptr, size_t bytes) override {
    std::free(ptr);
    live_bytes_ -= static_cast<int64_t>(bytes);
    live_buffers_--;
  }
  MemoryStats stats() const override {
    MemoryStats s;
    s.live_buffers = live_buffers_;
    s.live_bytes = live_bytes_;
    s.peak_bytes = peak_bytes_;
    s.reserved_bytes = live_bytes_;
    return s;
  }

 private:
  std::atomic<int64_t> live_buffers_{0}, live_bytes_{0}, peak_bytes_{0};
};

}  // namespace

Allocator& allocator_for(const Device& device) {
  // One host allocator for the process: memory is shared by every addon instance (worker threads).
  static CpuAllocator cpu;
  if (device.type == DeviceType::CPU) return cpu;
  return cuda_backend(device).allocator(device.index);
}

}  // namespace kdsr
