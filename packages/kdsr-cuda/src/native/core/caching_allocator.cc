#include "caching_allocator.h"

#include <cstdio>
#include <vector>

namespace kdsr {
namespace {

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

std::string mib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

}  // namespace

CachingAllocator::CachingAllocator(std::string device_name, RawMemory raw) : device_name_(std::move(device_name)), raw_(std::move(raw)) {}

CachingAllocator::~CachingAllocator() {
  // Only reached at process exit; blocks still allocated belong to tensors that outlive the addon.
  std::lock_guard<std::mutex> lock(mutex_);
  release_free_segments();
}

void* CachingAllocator::allocate(size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  void* ptr = nullptr;
  if (bytes > 0) {
    size_t size = round_up(bytes, kRound);
    bool small = size <= kSmallRequest;
    Block* block = take_free_block(size, small);
    if (!block) block = new_segment(size, small);
    if (!block) {
      release_free_segments();  // cached memory of the other pool (or unsplittable leftovers) may be enough
      block = new_segment(size, small);
    }
    if (!block)
      throw OutOfMemory(concat("out of memory on ", device_name_, ": cannot allocate ", mib(static_cast<int64_t>(bytes)), " (", bytes,
                               " bytes) after releasing the cached blocks and retrying; ", state(), ". Free some tensors (dispose) and retry, or use a smaller batch."));
    block->allocated = true;
    allocated_[block->ptr] = block;
    stats_.allocations++;
    ptr = block->ptr;
  }
  stats_.live_buffers++;
  stats_.live_bytes += static_cast<int64_t>(bytes);
  if (stats_.live_bytes > stats_.peak_bytes) stats_.peak_bytes = stats_.live_bytes;
  return ptr;
}

void CachingAllocator::release(void* ptr, size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.live_buffers--;
  stats_.live_bytes -= static_cast<int64_t>(bytes);
  if (!ptr) return;
  auto it = allocated_.find(ptr);
  if (it == allocated_.end()) return;  // not ours: never happens through Storage
  Block* block = it->second;
  allocated_.erase(it);
  block->allocated = false;
  cached_free_bytes_ += static_cast<int64_t>(block->size);
  Pool& pool = block->small ? small_free_ : large_free_;
  // Merge with free neighbours so that a later large request can reuse the space.
  if (block->prev && !block->prev->allocated) {
    Block* prev = block->prev;
    pool.erase(prev);
    prev->size += block->size;
    prev->next = block->next;
    if (block->next) block->next->prev = prev;
    delete block;
    block = prev;
  }
  if (block->next && !block->next->allocated) {
    Block* next = block->next;
    pool.erase(next);
    block->size += next->size;
    block->next = next->next;
    if (next->next) next->next->prev = block;
    delete next;
  }
  pool.insert(block);
}

MemoryStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_free_segments();
}

void CachingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_bytes = stats_.live_bytes;
}

// The smallest free block that fits; the rest is split off when it is big enough to be useful.
CachingAllocator::Block* CachingAllocator::take_free_block(size_t size, bool small) {
  Pool& pool = small ? small_free_ : large_free_;
  Block key{nullptr, size, small};
  auto it = pool.lower_bound(&key);
  if (it == pool.end()) return nullptr;
  Block* block = *it;
  pool.erase(it);
  cached_free_bytes_ -= static_cast<int64_t>(block->size);
  size_t rest = block->size - size;
  if (rest >= (small ? kRound : kSmallRequest)) {
    Block* tail = new Block{block->ptr + size, rest, small};
    tail->prev = block;
    tail->next = block->next;
    if (block->next) block->next->prev = tail;
    block->next = tail;
    block->size = size;
    pool.insert(tail);
    cached_free_bytes_ += static_cast<int64_t>(rest);
  }
  return block;
}

// A fresh segment from the device, returned whole or split like a cached block; null when out of memory.
CachingAllocator::Block* CachingAllocator::new_segment(size_t size, bool small) {
  size_t segment = small ? kSmallSegment : size <= kMediumRequest ? kMediumSegment : round_up(size, kLargeRound);
  void* ptr = raw_.allocate(segment);
  if (!ptr) return nullptr;
  stats_.reserved_bytes += static_cast<int64_t>(segment);
  stats_.segment_allocations++;
  Block* block = new Block{static_cast<char*>(ptr), segment, small};
  Pool& pool = small ? small_free_ : large_free_;
  pool.insert(block);
  cached_free_bytes_ += static_cast<int64_t>(segment);
  return take_free_block(size, small);
}

// Returns every segment that is entirely free to the device.
void CachingAllocator::release_free_segments() {
  for (Pool* pool : {&small_free_, &large_free_}) {
    std::vector<Block*> whole;
    for (Block* b : *pool)
      if (!b->prev && !b->next) whole.push_back(b);
    for (Block* b : whole) {
      pool->erase(b);
      raw_.release(b->ptr);
      stats_.reserved_bytes -= static_cast<int64_t>(b->size);
      cached_free_bytes_ -= static_cast<int64_t>(b->size);
      delete b;
    }
  }
}

std::string CachingAllocator::state() const {
  return concat(mib(stats_.live_bytes), " live in ", stats_.live_buffers, " tensors, ", mib(stats_.reserved_bytes), " reserved by the caching allocator (",
                mib(cached_free_bytes_), " of it cached but unusable for this request), ", raw_.describe());
}

}  // namespace kdsr
