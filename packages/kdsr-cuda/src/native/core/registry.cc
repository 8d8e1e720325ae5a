#include "registry.h"

#include <mutex>

namespace kdsr {
namespace {

std::vector<KernelInfo>& kernels() {
  static std::vector<KernelInfo> list;  // filled by static initialisers before the addon is used
  return list;
}

std::mutex preference_mutex;
std::string preference = "onednn";

bool supports(const KernelInfo& k, DType t) {
  for (DType d : k.dtypes)
    if (d == t) return true;
  return false;
}

}  // namespace

void register_kernel(KernelInfo info) { kernels().push_back(std::move(info)); }

const std::vector<KernelInfo>& all_kernels() { return kernels(); }

void set_cpu_preference(const std::string& impl) {
  if (impl != "onednn" && impl != "reference")
    throw Error(concat("unknown CPU implementation '", impl, "' (expected 'onednn' or 'reference')"));
  std::lock_guard<std::mutex> lock(preference_mutex);
  preference = impl;
}

std::string cpu_preference() {
  std::lock_guard<std::mutex> lock(preference_mutex);
  return preference;
}

Tensors run_kernel(const std::string& op, const Tensors& inputs, const Attrs& attrs) {
  const Tensor* first = nullptr;
  for (const Tensor& t : inputs) {
    if (!t.defined()) continue;
    if (!first) {
      first = &t;
    } else if (t.device() != first->device()) {
      throw Error(concat("Error in ", op, ": inputs are on different devices (", first->device().str(), " and ", t.device().str(), ")"));
    }
  }
  Device device = first ? first->device() : parse_device(attrs.has("device") ? attrs.string("device") : "cpu");
  DType dtype = first ? first->dtype() : parse_dtype(attrs.has("dtype") ? attrs.string("dtype") : "float32");
  if (device.type != DeviceType::CPU) allocator_for(device);  // fails clearly when the backend is absent

  const std::string backend = device.backend();
  const std::string preferred = cpu_preference();
  const KernelInfo* chosen = nullptr;
  bool known = false;
  for (const KernelInfo& k : kernels()) {
    if (k.op != op) continue;
    known = true;
    if (k.backend != backend || !supports(k, dtype)) continue;
    // On the CPU the oneDNN kernel wins unless the reference implementation is preferred.
    if (!chosen || (backend == "cpu" && k.impl == preferred)) chosen = &k;
  }
  if (!known) throw Error(concat("unknown op '", op, "'"));
  if (!chosen) throw Error(concat("kernel '", op, "' is not implemented for backend '", backend, "' and dtype ", dtype_name(dtype)));
  return chosen->fn(inputs, attrs);
}

}  // namespace kdsr
