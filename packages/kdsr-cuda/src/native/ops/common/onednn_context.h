// What every oneDNN kernel shares: one CPU engine and stream, wrapping of our tensors as oneDNN
// memory, layout conversions (reorders built once with the primitive that needs them), and a
// bounded cache of primitives keyed by the call's shapes (building a primitive costs far more
// than running it on KDSR's small feature maps). Only compiled when oneDNN is found (files named
// *_onednn.cc). Works with oneDNN 2.x (Debian's libdnnl) and 3.x (tools/build-onednn.sh), whose
// primitive descriptors are built differently (KDSR_ONEDNN_V3).
#pragma once
#include <dnnl.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../../core/error.h"
#include "../../core/tensor.h"

#define KDSR_ONEDNN_V3 (DNNL_VERSION_MAJOR >= 3)

namespace kdsr {
namespace onednn {

using dims = dnnl::memory::dims;
using tag = dnnl::memory::format_tag;

dnnl::engine& engine();

// Primitive attributes for our kernels: the scratchpad is passed at execution (user mode), so a
// cached primitive can be run from any thread.
dnnl::primitive_attr attributes();

// A float32 descriptor.
dnnl::memory::desc desc(const dims& shape, tag format);

// The tensor's data seen through a descriptor (no copy).
dnnl::memory wrap(const Tensor& t, const dnnl::memory::desc& md);
// Memory at `data` (owned by the caller) seen through a descriptor.
dnnl::memory wrap(void* data, const dnnl::memory::desc& md);

// A conversion between two layouts of one operand, built once (with the cached primitive that
// needs it): `needed` is false when the layouts agree and the data is used as it is.
struct Reorder {
  Reorder() = default;
  Reorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to);
  dnnl::memory::desc from, to;
  bool needed = false;
  dnnl::reorder primitive;
};

// Runs a primitive on the calling thread's own stream and waits. For work split over threads by
// the caller (each primitive built for one thread, run inside a parallel region).
void execute_here(const dnnl::primitive& primitive, const std::unordered_map<int, dnnl::memory>& args);

// The temporaries of one kernel call (operands reordered to the primitive's layout, its
// scratchpad) come from kdsr's CPU allocator, so they count in its statistics and share its
// reuse, and are released when the call returns.
class Workspace {
 public:
  // A new buffer.
  dnnl::memory buffer(const dnnl::memory::desc& md);
  // `user` converted by `reorder` into the primitive's layout (itself when no conversion is needed).
  dnnl::memory in_layout(const dnnl::memory& user, const Reorder& reorder);
  // Where a primitive writes an output that `back` converts to `user`: `user` itself when no
  // conversion is needed, else a new buffer for copy_back.
  dnnl::memory output_for(const dnnl::memory& user, const Reorder& back);
  void copy_back(const dnnl::memory& produced, const dnnl::memory& user, const Reorder& back);
  // Runs a primitive with its arguments (and a scratchpad as described, if any) and waits.
  // Calls are serialised: they share one stream, and each already uses every thread.
  void execute(const dnnl::primitive& primitive, std::unordered_map<int, dnnl::memory> args, const dnnl::memory::desc& scratchpad = {});

 private:
  std::vector<Tensor> held_;
};

// Runs a kernel body, turning oneDNN's exceptions into "Error in <op>: oneDNN: ..." errors.
template <typename F>
auto guarded(const std::string& op, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const dnnl::error& e) {
    throw Error(concat("Error in ", op, ": oneDNN: ", e.what()));
  }
}

// While it lives, the calling thread builds and runs primitives for one thread (oneDNN plans a
// primitive's work split for the thread count at creation, and GEMM-based ones again when they
// run): for primitives run by execute_here inside a parallel region, and for small products.
class SingleThreaded {
 public:
  SingleThreaded();
  ~SingleThreaded();
  SingleThreaded(const SingleThreaded&) = delete;
  SingleThreaded& operator=(const SingleThreaded&) = delete;

 private:
  int saved_;
};

// A cache key from the op's shapes and flags plus the OpenMP thread count, for which oneDNN
// tunes the primitives it builds.
std::string key(const char* kind, std::initializer_list<int64_t> parts);

// Primitives of one kind by key, built once; the least recently used are dropped beyond
// `capacity` (inference on images of many sizes would otherwise grow it without bound).
template <typename Entry>
class PrimitiveCache {
 public:
  explicit PrimitiveCache(size_t capacity = 64) : capacity_(capacity) {}

  std::shared_ptr<const Entry> get(const std::string& key, const std::function<Entry()>& build) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = index_.find(key);
    if (found != index_.end()) {
      order_.splice(order_.begin(), order_, found->second);
      return found->second->second;
    }
    auto entry = std::make_shared<const Entry>(build());
    order_.emplace_front(key, entry);
    index_[key] = order_.begin();
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    return entry;
  }

 private:
  using Item = std::pair<std::string, std::shared_ptr<const Entry>>;
  size_t capacity_;
  std::mutex mutex_;
  std::list<Item> order_;  // most recently used first
  std::unordered_map<std::string, typename std::list<Item>::iterator> index_;
};

}  // namespace onednn
}  // namespace kdsr
