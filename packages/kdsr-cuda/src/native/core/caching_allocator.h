// A caching allocator over a slow raw allocator (cudaMalloc/cudaFree): memory is taken from the device
// in segments, handed out as blocks carved from them, and kept when released, so steady-state training
// allocates nothing from the device. Blocks are split on allocation and merged with free neighbours on
// release (the design of PyTorch's CUDA caching allocator, without its per-stream bookkeeping: each
// device has one stream, so a released block can be reused by the next op queued on that stream).
//
// Device-independent on purpose: the CUDA backend plugs in cudaMalloc; the CPU plugs in aligned_alloc
// (glibc maps blocks above 32 MiB afresh on every malloc, and first-touch page faults made that the
// main cost of large CPU ops); test/native/caching_allocator_test.cc plugs in a bounded host allocator
// to check splitting, merging, statistics and out-of-memory handling without a GPU. Thread-safe.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "allocator.h"

namespace kdsr {

struct RawMemory {
  std::function<void*(size_t bytes)> allocate;     // nullptr when the device is out of memory
  std::function<void(void* ptr)> release;
  std::function<std::string()> describe;           // the device's memory state, for error messages
};

class CachingAllocator : public Allocator {
 public:
  static constexpr size_t kRound = 512;                  // every block is a multiple of this
  static constexpr size_t kSmallRequest = 1 << 20;       // up to 1 MiB: carved from 2 MiB segments
  static constexpr size_t kSmallSegment = 2 << 20;
  static constexpr size_t kMediumRequest = 10 << 20;     // up to 10 MiB: carved from 20 MiB segments
  static constexpr size_t kMediumSegment = 20 << 20;
  static constexpr size_t kLargeRound = 2 << 20;         // larger: a segment of the size rounded to 2 MiB

  CachingAllocator(std::string device_name, RawMemory raw);
  ~CachingAllocator() override;

  // Throws OutOfMemory (naming the request and the pool's state) after releasing every cached
  // segment and retrying once; the allocator stays usable, so the caller can free tensors and retry.
  void* allocate(size_t bytes) override;
  void release(void* ptr, size_t bytes) override;
  MemoryStats stats() const override;
  void empty_cache() override;
  void reset_peak() override;

 private:
  struct Block {
    char* ptr;
    size_t size;
    bool small;  // which pool it returns to
    bool allocated = false;
    Block* prev = nullptr;  // neighbours within the same segment
    Block* next = nullptr;
  };
  struct BySizeThenAddress {
    bool operator()(const Block* a, const Block* b) const { return a->size != b->size ? a->size < b->size : a->ptr < b->ptr; }
  };
  using Pool = std::set<Block*, BySizeThenAddress>;

  Block* take_free_block(size_t size, bool small);
  Block* new_segment(size_t size, bool small);
  void release_free_segments();
  std::string state() const;

  std::string device_name_;
  RawMemory raw_;
  mutable std::mutex mutex_;
  Pool small_free_, large_free_;
  std::map<void*, Block*> allocated_;
  MemoryStats stats_;
  int64_t cached_free_bytes_ = 0;
};

}  // namespace kdsr
