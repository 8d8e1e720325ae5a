// Per-instance state of the addon. The addon is context-aware: each worker thread that loads it
// gets its own instance (its own NativeTensor class); kernels and memory are process-wide.
#pragma once
#include <napi.h>

#include "../core/tensor.h"

namespace kdsr {

class KdsrAddon : public Napi::Addon<KdsrAddon> {
 public:
  KdsrAddon(Napi::Env env, Napi::Object exports);

  Napi::FunctionReference tensor_class;
  Tensor pending;  // handed from NativeTensor::wrap to the constructor

 private:
  Napi::Value from_array(const Napi::CallbackInfo& info);
  Napi::Value run(const Napi::CallbackInfo& info);
  Napi::Value list_kernels(const Napi::CallbackInfo& info);
  Napi::Value memory_stats(const Napi::CallbackInfo& info);
  Napi::Value build_info(const Napi::CallbackInfo& info);
  Napi::Value devices(const Napi::CallbackInfo& info);
  Napi::Value cuda_availability(const Napi::CallbackInfo& info);
  Napi::Value set_cpu_preference(const Napi::CallbackInfo& info);
  Napi::Value get_cpu_preference(const Napi::CallbackInfo& info);
  Napi::Value set_num_threads(const Napi::CallbackInfo& info);
  Napi::Value get_num_threads(const Napi::CallbackInfo& info);
  Napi::Value set_cpu_isa(const Napi::CallbackInfo& info);
  Napi::Value get_cpu_isa(const Napi::CallbackInfo& info);
  Napi::Value supported_cpu_isas(const Napi::CallbackInfo& info);
  Napi::Value synchronize(const Napi::CallbackInfo& info);
  Napi::Value set_cuda_math(const Napi::CallbackInfo& info);
  Napi::Value get_cuda_math(const Napi::CallbackInfo& info);
  Napi::Value empty_cache(const Napi::CallbackInfo& info);
  Napi::Value reset_peak_memory(const Napi::CallbackInfo& info);
  Napi::Value philox4x32(const Napi::CallbackInfo& info);
};

}  // namespace kdsr
