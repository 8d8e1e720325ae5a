// Unit tests of CachingAllocator (src/native/core/caching_allocator.h), the allocator of the CPU and
// of every CUDA device, over a bounded host "device" so that splitting, merging, reuse, statistics,
// empty_cache, the out-of-memory retry and thread safety are checked without a GPU.
// Built into build/native-tests/; see native_test.h for how it runs.
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../../src/native/core/caching_allocator.h"
#include "native_test.h"

namespace kdsr {
namespace {

constexpr size_t MiB = 1 << 20;

// A device with `capacity` bytes: counts what it hands out and refuses what does not fit.
struct BoundedDevice {
  size_t capacity;
  size_t used = 0;
  int allocations = 0;  // raw allocations made so far
  std::map<void*, size_t> live;
  std::mutex mutex;

  explicit BoundedDevice(size_t bytes) : capacity(bytes) {}

  RawMemory raw() {
    RawMemory r;
    r.allocate = [this](size_t bytes) -> void* {
      std::lock_guard<std::mutex> lock(mutex);
      if (used + bytes > capacity) return nullptr;
      void* p = std::aligned_alloc(64, bytes);
      if (!p) return nullptr;
      used += bytes;
      allocations++;
      live[p] = bytes;
      return p;
    };
    r.release = [this](void* p) {
      std::lock_guard<std::mutex> lock(mutex);
      used -= live.at(p);
      live.erase(p);
      std::free(p);
    };
    r.describe = [this]() { return concat("the test device has ", used, " of ", capacity, " bytes in use"); };
    return r;
  }
};

char* as_bytes(void* p) { return static_cast<char*>(p); }

void small_blocks_share_a_segment() {
  BoundedDevice device(64 * MiB);
  CachingAllocator a("test", device.raw());
  void* p = a.allocate(1000);
  void* q = a.allocate(1000);
  EXPECT(device.allocations == 1, "(one 2 MiB segment), got ", device.allocations);
  EXPECT(a.stats().reserved_bytes == static_cast<int64_t>(CachingAllocator::kSmallSegment));
  // Best fit from the segment's remainder, blocks rounded to 512 bytes: q follows p.
  EXPECT(as_bytes(q) - as_bytes(p) == 1024, "got ", as_bytes(q) - as_bytes(p));
  EXPECT(reinterpret_cast<uintptr_t>(p) % 64 == 0 && reinterpret_cast<uintptr_t>(q) % 64 == 0);
  a.release(p, 1000);
  a.release(q, 1000);
}

void released_blocks_are_reused() {
  BoundedDevice device(256 * MiB);
  CachingAllocator a("test", device.raw());
  void* p = a.allocate(64 * MiB);
  a.release(p, 64 * MiB);
  void* q = a.allocate(64 * MiB);
  EXPECT(q == p, "(the cached block)");
  EXPECT(device.allocations == 1, "got ", device.allocations);
  a.release(q, 64 * MiB);
  // A smaller request is carved from the cached block; the rest stays free for the next one.
  void* r = a.allocate(40 * MiB);
  void* s = a.allocate(20 * MiB);
  EXPECT(r == p && as_bytes(s) == as_bytes(p) + 40 * MiB);
  EXPECT(device.allocations == 1, "got ", device.allocations);
  a.release(r, 40 * MiB);
  a.release(s, 20 * MiB);
}

void neighbours_merge_on_release() {
  BoundedDevice device(64 * MiB);
  CachingAllocator a("test", device.raw());
  // Three 4 MiB blocks from one 20 MiB segment, in address order.
  void* b0 = a.allocate(4 * MiB);
  void* b1 = a.allocate(4 * MiB);
  void* b2 = a.allocate(4 * MiB);
  EXPECT(device.allocations == 1 && as_bytes(b1) == as_bytes(b0) + 4 * MiB && as_bytes(b2) == as_bytes(b1) + 4 * MiB);
  a.release(b1, 4 * MiB);
  a.release(b0, 4 * MiB);  // merges with b1 behind it
  void* big = a.allocate(8 * MiB);
  EXPECT(big == b0, "(8 MiB from the merged b0 + b1)");
  a.release(big, 8 * MiB);
  a.release(b2, 4 * MiB);  // merges with both sides: the segment is whole again
  a.empty_cache();
  EXPECT(device.used == 0 && a.stats().reserved_bytes == 0, "(a whole free segment goes back), used ", device.used);
}

void statistics() {
  BoundedDevice device(256 * MiB);
  CachingAllocator a("test", device.raw());
  void* p = a.allocate(3 * MiB + 5);
  void* q = a.allocate(100);
  MemoryStats s = a.stats();
  EXPECT(s.live_buffers == 2 && s.live_bytes == static_cast<int64_t>(3 * MiB + 105), "live ", s.live_buffers, " buffers ", s.live_bytes, " bytes");
  EXPECT(s.peak_bytes == s.live_bytes);
  EXPECT(s.reserved_bytes == static_cast<int64_t>(device.used) && s.reserved_bytes == static_cast<int64_t>(22 * MiB), "reserved ", s.reserved_bytes);
  a.release(p, 3 * MiB + 5);
  s = a.stats();
  EXPECT(s.live_buffers == 1 && s.live_bytes == 100 && s.peak_bytes == static_cast<int64_t>(3 * MiB + 105));
  EXPECT(s.reserved_bytes == static_cast<int64_t>(22 * MiB), "(released memory stays cached)");
  a.reset_peak();
  EXPECT(a.stats().peak_bytes == 100, "(a new peak starts from what is live)");
  void* r = a.allocate(200);
  a.release(r, 200);
  EXPECT(a.stats().peak_bytes == 300 && a.stats().live_bytes == 100);
  a.release(q, 100);
  // Zero-byte buffers are counted but take no memory.
  void* z = a.allocate(0);
  EXPECT(z == nullptr && a.stats().live_buffers == 1 && a.stats().live_bytes == 0);
  a.release(z, 0);
  EXPECT(a.stats().live_buffers == 0);
}

void empty_cache_keeps_live_segments() {
  BoundedDevice device(256 * MiB);
  CachingAllocator a("test", device.raw());
  void* live = a.allocate(1 * MiB + 512);  // medium: a 20 MiB segment
  void* dead = a.allocate(30 * MiB);       // large: its own segment
  void* small = a.allocate(256);
  a.release(dead, 30 * MiB);
  a.release(small, 256);
  a.empty_cache();
  EXPECT(a.stats().reserved_bytes == static_cast<int64_t>(20 * MiB) && device.used == 20 * MiB, "reserved ", a.stats().reserved_bytes);
  a.release(live, 1 * MiB + 512);
  a.empty_cache();
  EXPECT(a.stats().reserved_bytes == 0 && device.used == 0 && device.live.empty());
}

void out_of_memory_retries_then_throws() {
  BoundedDevice device(40 * MiB);
  CachingAllocator a("test", device.raw());
  // 20 MiB of cached, unused segments...
  void* x = a.allocate(2 * MiB);
  void* y = a.allocate(10 * MiB);
  a.release(x, 2 * MiB);
  a.release(y, 10 * MiB);
  EXPECT(a.stats().reserved_bytes == static_cast<int64_t>(20 * MiB));
  // ...are given back when a 30 MiB request does not fit beside them.
  void* big = a.allocate(30 * MiB);
  EXPECT(big != nullptr && a.stats().reserved_bytes == static_cast<int64_t>(30 * MiB), "reserved ", a.stats().reserved_bytes);
  // Nothing more can be freed: a clear error, and the allocator goes on working.
  bool thrown = false;
  try {
    a.allocate(20 * MiB);
  } catch (const OutOfMemory& e) {
    thrown = true;
    const std::string what = e.what();
    EXPECT(what.find("out of memory on test: cannot allocate 20.0 MiB") != std::string::npos, "message: ", what);
    EXPECT(what.find("30.0 MiB live in 1 tensors") != std::string::npos && what.find("the test device has") != std::string::npos, "message: ", what);
  }
  EXPECT(thrown, "(OutOfMemory)");
  EXPECT(a.stats().live_buffers == 1 && a.stats().live_bytes == static_cast<int64_t>(30 * MiB));
  a.release(big, 30 * MiB);
  void* again = a.allocate(20 * MiB);
  EXPECT(again != nullptr);
  a.release(again, 20 * MiB);
}

// Threads allocate, mark their blocks, check the marks and release: overlapping blocks or lost
// updates to the pools would show as a wrong mark or wrong statistics. Blocks start at multiples of
// 512 bytes within a segment, so marking every 256th byte catches any overlap.
void concurrent_use() {
  BoundedDevice device(1024 * MiB);
  CachingAllocator a("test", device.raw());
  std::vector<std::thread> threads;
  std::vector<std::string> errors(4);
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t]() {
      std::mt19937 rng(t);
      std::vector<std::pair<char*, size_t>> held;
      for (int i = 0; i < 2000 && errors[t].empty(); i++) {
        if (held.size() < 8 && (held.empty() || rng() % 2)) {
          const size_t sizes[] = {16, 700, 4096, 300000, 1 * MiB + 1, 6 * MiB, 12 * MiB};
          size_t bytes = sizes[rng() % 7];
          char* p = static_cast<char*>(a.allocate(bytes));
          for (size_t j = 0; j < bytes; j += 256) p[j] = static_cast<char>('a' + t);
          held.emplace_back(p, bytes);
        } else {
          size_t k = rng() % held.size();
          auto [p, bytes] = held[k];
          for (size_t j = 0; j < bytes; j += 256)
            if (p[j] != 'a' + t) errors[t] = concat("thread ", t, " found another thread's byte in its block");
          a.release(p, bytes);
          held.erase(held.begin() + static_cast<long>(k));
        }
      }
      for (auto [p, bytes] : held) a.release(p, bytes);
    });
  }
  for (auto& th : threads) th.join();
  for (const std::string& e : errors) EXPECT(e.empty(), e);
  MemoryStats s = a.stats();
  EXPECT(s.live_buffers == 0 && s.live_bytes == 0, "live ", s.live_buffers, " buffers ", s.live_bytes, " bytes");
  a.empty_cache();
  EXPECT(a.stats().reserved_bytes == 0 && device.used == 0, "(every segment whole again after the threads released all)");
}

}  // namespace
}  // namespace kdsr

int main(int argc, char** argv) {
  return kdsr::testing::run_cases(argc, argv,
                                  {
                                      {"small_blocks_share_a_segment", kdsr::small_blocks_share_a_segment},
                                      {"released_blocks_are_reused", kdsr::released_blocks_are_reused},
                                      {"neighbours_merge_on_release", kdsr::neighbours_merge_on_release},
                                      {"statistics", kdsr::statistics},
                                      {"empty_cache_keeps_live_segments", kdsr::empty_cache_keeps_live_segments},
                                      {"out_of_memory_retries_then_throws", kdsr::out_of_memory_retries_then_throws},
                                      {"concurrent_use", kdsr::concurrent_use},
                                  });
}
