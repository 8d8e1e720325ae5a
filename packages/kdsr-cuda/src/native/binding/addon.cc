// The addon's whole surface; src/ts/binding.ts mirrors it as the NativeBinding interface.
#include "addon.h"

#include "../core/backend.h"
#include "../core/cuda_module.h"
#include "../core/cpu_isa.h"
#include "../core/parallel.h"
#include "../core/registry.h"
#include "../ops/random/philox.h"
#include "build_config.h"
#include "convert.h"
#include "native_tensor.h"

namespace kdsr {

KdsrAddon::KdsrAddon(Napi::Env env, Napi::Object exports) {
  // Before any kernel runs (the module adds its kernels to the registry), once per process.
  load_cuda_module();
  Napi::Function tensor = NativeTensor::define(env);
  tensor_class = Napi::Persistent(tensor);
  DefineAddon(exports, {
                           InstanceValue("NativeTensor", tensor),
                           InstanceMethod<&KdsrAddon::from_array>("fromArray"),
                           InstanceMethod<&KdsrAddon::run>("run"),
                           InstanceMethod<&KdsrAddon::list_kernels>("listKernels"),
                           InstanceMethod<&KdsrAddon::memory_stats>("memoryStats"),
                           InstanceMethod<&KdsrAddon::build_info>("buildInfo"),
                           InstanceMethod<&KdsrAddon::devices>("devices"),
                           InstanceMethod<&KdsrAddon::cuda_availability>("cudaAvailability"),
                           InstanceMethod<&KdsrAddon::set_cpu_preference>("setCpuPreference"),
                           InstanceMethod<&KdsrAddon::get_cpu_preference>("getCpuPreference"),
                           InstanceMethod<&KdsrAddon::set_num_threads>("setNumThreads"),
                           InstanceMethod<&KdsrAddon::get_num_threads>("getNumThreads"),
                           InstanceMethod<&KdsrAddon::set_cpu_isa>("setCpuIsa"),
                           InstanceMethod<&KdsrAddon::get_cpu_isa>("getCpuIsa"),
                           InstanceMethod<&KdsrAddon::supported_cpu_isas>("supportedCpuIsas"),
                           InstanceMethod<&KdsrAddon::synchronize>("synchronize"),
                           InstanceMethod<&KdsrAddon::set_cuda_math>("setCudaMath"),
                           InstanceMethod<&KdsrAddon::get_cuda_math>("getCudaMath"),
                           InstanceMethod<&KdsrAddon::empty_cache>("emptyCache"),
                           InstanceMethod<&KdsrAddon::reset_peak_memory>("resetPeakMemory"),
                           InstanceMethod<&KdsrAddon::philox4x32>("philox4x32"),
                       });
}

// Native exceptions become JS errors; an out-of-memory error carries code 'ERR_KDSR_OOM'.
template <typename F>
static Napi::Value guarded(Napi::Env env, F&& body) {
  try {
    return body();
  } catch (const OutOfMemory& e) {
    Napi::Error error = Napi::Error::New(env, e.what());
    error.Set("code", Napi::String::New(env, "ERR_KDSR_OOM"));
    throw error;
  } catch (const Error& e) {
    throw Napi::Error::New(env, e.what());
  } catch (const std::bad_alloc&) {
    Napi::Error error = Napi::Error::New(env, "out of host memory");
    error.Set("code", Napi::String::New(env, "ERR_KDSR_OOM"));
    throw error;
  }
}

// fromArray(Float32Array | Float64Array, shape, device): a new tensor holding a copy of the data.
Napi::Value KdsrAddon::from_array(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    if (info.Length() < 3 || !info[0].IsTypedArray() || !info[2].IsString())
      throw Error("fromArray(data, shape, device) expects a Float32Array or Float64Array, a shape and a device name");
    Napi::TypedArray array = info[0].As<Napi::TypedArray>();
    DType dtype;
    if (array.TypedArrayType() == napi_float32_array) {
      dtype = DType::F32;
    } else if (array.TypedArrayType() == napi_float64_array) {
      dtype = DType::F64;
    } else {
      throw Error("fromArray(): data must be a Float32Array or Float64Array");
    }
    Shape shape = shape_from_js(info[1], "fromArray(): shape");
    if (shape_numel(shape) != static_cast<int64_t>(array.ElementLength()))
      throw Error(concat("fromArray(): shape ", shape_str(shape), " needs ", shape_numel(shape), " elements, the array has ", array.ElementLength()));
    Tensor t = Tensor::empty(shape, dtype, parse_device(info[2].As<Napi::String>().Utf8Value()));
    copy_from_host(t, static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset());
    return NativeTensor::wrap(info.Env(), std::move(t));
  });
}

// run(op, inputs, attrs): runs a kernel of op-table.json; null inputs are absent optional ones.
// Returns the outputs (null for an output that was not asked for).
Napi::Value KdsrAddon::run(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsArray()) throw Error("run(op, inputs, attrs) expects an op name and an array of tensors");
    std::string op = info[0].As<Napi::String>().Utf8Value();
    Napi::Array js_inputs = info[1].As<Napi::Array>();
    Tensors inputs;
    for (uint32_t i = 0; i < js_inputs.Length(); i++) {
      Napi::Value v = js_inputs.Get(i);
      inputs.push_back(v.IsNull() || v.IsUndefined() ? Tensor() : NativeTensor::unwrap(v, concat("Error in ", op, ": input ", i)));
    }
    Tensors outputs = run_kernel(op, inputs, attrs_from_js(op, info.Length() > 2 ? info[2] : info.Env().Undefined()));
    Napi::Array result = Napi::Array::New(info.Env(), outputs.size());
    for (size_t i = 0; i < outputs.size(); i++)
      result.Set(static_cast<uint32_t>(i), outputs[i].defined() ? Napi::Value(NativeTensor::wrap(info.Env(), std::move(outputs[i]))) : info.Env().Null());
    return result;
  });
}

Napi::Value KdsrAddon::list_kernels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& kernels = all_kernels();
  Napi::Array out = Napi::Array::New(env, kernels.size());
  for (size_t i = 0; i < kernels.size(); i++) {
    Napi::Object k = Napi::Object::New(env);
    k.Set("op", kernels[i].op);
    k.Set("backend", kernels[i].backend);
    k.Set("impl", kernels[i].impl);
    Napi::Array dtypes = Napi::Array::New(env, kernels[i].dtypes.size());
    for (size_t j = 0; j < kernels[i].dtypes.size(); j++) dtypes.Set(static_cast<uint32_t>(j), dtype_name(kernels[i].dtypes[j]));
    k.Set("dtypes", dtypes);
    out.Set(static_cast<uint32_t>(i), k);
  }
  return out;
}

Napi::Value KdsrAddon::memory_stats(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Device device = parse_device(info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "cpu");
    MemoryStats s = allocator_for(device).stats();
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("liveBuffers", static_cast<double>(s.live_buffers));
    out.Set("liveBytes", static_cast<double>(s.live_bytes));
    out.Set("peakBytes", static_cast<double>(s.peak_bytes));
    out.Set("allocations", static_cast<double>(s.allocations));
    out.Set("segmentAllocations", static_cast<double>(s.segment_allocations));
    out.Set("reservedBytes", static_cast<double>(s.reserved_bytes));
    return out;
  });
}

static Napi::Array string_array(Napi::Env env, const std::vector<std::string>& items) {
  Napi::Array out = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); i++) out.Set(static_cast<uint32_t>(i), items[i]);
  return out;
}

static Napi::Object cuda_library(Napi::Env env, const char* version, const char* built_with, const char* file) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("version", version);
  out.Set("builtWith", built_with);
  out.Set("file", file);
  return out;
}

// buildInfo().cuda: null without a CUDA module; otherwise the module, whether it loaded and why not, or
// what it was built with and the cuDNN / cuBLAS it loaded.
static Napi::Value cuda_build_info(Napi::Env env) {
  const CudaModuleStatus& m = load_cuda_module();
  if (!m.present) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("module", m.module);
  out.Set("loaded", m.loaded);
  out.Set("searched", string_array(env, m.searched));
  if (!m.loaded) {
    out.Set("error", m.error);
    bool missing = m.error.find("cannot open shared object file") != std::string::npos;
    out.Set("hint", missing ? Napi::Value(Napi::String::New(env, cuda_libraries_hint())) : env.Null());
    return out;
  }
  out.Set("runtime", m.info->runtime);
  out.Set("architectures", m.info->architectures);
  out.Set("cudnn", cuda_library(env, m.info->cudnn_loaded, m.info->cudnn_built, m.info->cudnn_file));
  out.Set("cublas", cuda_library(env, m.info->cublas_loaded, m.info->cublas_built, m.info->cublas_file));
  return out;
}

Napi::Value KdsrAddon::build_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("version", KDSR_VERSION);
  Napi::Array backends = Napi::Array::New(env);
  backends.Set(0u, "cpu");
  if (cuda_backend_if_loaded()) backends.Set(1u, "cuda");
  out.Set("backends", backends);
  out.Set("onednn", KDSR_WITH_ONEDNN ? Napi::Value(Napi::String::New(env, KDSR_ONEDNN_VERSION)) : env.Null());
  out.Set("openmp",
#ifdef _OPENMP
          true
#else
          false
#endif
  );
  out.Set("compiler", KDSR_COMPILER);
  out.Set("cuda", cuda_build_info(env));
  return out;
}

Napi::Value KdsrAddon::devices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("device", "cpu");
  cpu.Set("name", concat("CPU (", num_threads(), " threads)"));
  out.Set(0u, cpu);
  if (const CudaBackend* cuda = cuda_backend_if_loaded()) {
    for (int i = 0; i < cuda->device_count(); i++) {
      Napi::Object d = Napi::Object::New(env);
      d.Set("device", concat("cuda:", i));
      d.Set("name", cuda->device_name(i));
      out.Set(static_cast<uint32_t>(i + 1), d);
    }
  }
  return out;
}

// cudaAvailability(): { available: true, devices } or { available: false, reason } (a CPU-only build,
// a CUDA module that did not load, or no usable GPU).
Napi::Value KdsrAddon::cuda_availability(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  const CudaModuleStatus& m = load_cuda_module();
  const CudaBackend* cuda = cuda_backend_if_loaded();
  int count = cuda ? cuda->device_count() : 0;
  out.Set("available", count > 0);
  if (count > 0) {
    out.Set("devices", count);
  } else if (!m.present) {
    out.Set("reason", "this build of @kdsr/cuda was compiled without the CUDA backend (CPU only)");
  } else if (!cuda) {
    out.Set("reason", concat("the CUDA backend did not load: ", m.error));
  } else {
    out.Set("reason", concat("no usable CUDA GPU: ", cuda->unavailable_reason()));
  }
  return out;
}

Napi::Value KdsrAddon::set_cpu_preference(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    kdsr::set_cpu_preference(info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "");
    return info.Env().Undefined();
  });
}

Napi::Value KdsrAddon::get_cpu_preference(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), cpu_preference()); }

Napi::Value KdsrAddon::set_num_threads(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().Int32Value() < 1)
    throw Napi::TypeError::New(info.Env(), "setNumThreads(n) expects a positive integer");
  kdsr::set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value KdsrAddon::get_num_threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), num_threads()); }

// setCpuIsa('avx512' | 'avx2' | 'baseline'): the variant of our own SIMD kernels (core/cpu_isa.h).
Napi::Value KdsrAddon::set_cpu_isa(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const std::string name = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    kdsr::set_cpu_isa(parse_cpu_isa(name, "setCpuIsa()"));
    return info.Env().Undefined();
  });
}

Napi::Value KdsrAddon::get_cpu_isa(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value { return Napi::String::New(info.Env(), cpu_isa_name(kdsr::cpu_isa())); });
}

Napi::Value KdsrAddon::supported_cpu_isas(const Napi::CallbackInfo& info) {
  const std::vector<CpuIsa> isas = kdsr::supported_cpu_isas();
  Napi::Array out = Napi::Array::New(info.Env(), isas.size());
  for (uint32_t i = 0; i < isas.size(); i++) out.Set(i, Napi::String::New(info.Env(), cpu_isa_name(isas[i])));
  return out;
}

// synchronize(device): waits for the device's queued work (a no-op on the CPU, whose kernels are synchronous).
Napi::Value KdsrAddon::synchronize(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Device device = parse_device(info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "cpu");
    if (device.type == DeviceType::CUDA) cuda_backend(device).synchronize(device.index);
    return info.Env().Undefined();
  });
}

// setCudaMath('tf32' | 'fp32'): float32 math of cuDNN convolutions and cuBLAS products (process-wide).
Napi::Value KdsrAddon::set_cuda_math(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    kdsr::set_cuda_math(parse_cuda_math(info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : ""));
    return info.Env().Undefined();
  });
}

Napi::Value KdsrAddon::get_cuda_math(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), cuda_math_name(kdsr::cuda_math())); }

// emptyCache(device): returns a caching allocator's unused memory to the device.
Napi::Value KdsrAddon::empty_cache(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Device device = parse_device(info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "cpu");
    allocator_for(device).empty_cache();
    return info.Env().Undefined();
  });
}

// resetPeakMemory(device): the device's peakBytes starts again from its live bytes.
Napi::Value KdsrAddon::reset_peak_memory(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Device device = parse_device(info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "cpu");
    allocator_for(device).reset_peak();
    return info.Env().Undefined();
  });
}

// philox4x32(counter[4], key[2]): the raw Philox4x32-10 block function of the random kernels,
// exposed for known-answer tests against Random123 (words are numbers in [0, 2^32)).
Napi::Value KdsrAddon::philox4x32(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    auto words = [&](size_t arg, uint32_t count, uint32_t* out) {
      const char* usage = "philox4x32(counter, key) expects 4 counter words and 2 key words, integers in [0, 2^32)";
      if (info.Length() <= arg || !info[arg].IsArray() || info[arg].As<Napi::Array>().Length() != count) throw Error(usage);
      for (uint32_t i = 0; i < count; i++) {
        Napi::Value v = info[arg].As<Napi::Array>().Get(i);
        double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
        if (!(d >= 0 && d < 4294967296.0 && d == static_cast<double>(static_cast<uint32_t>(d)))) throw Error(usage);
        out[i] = static_cast<uint32_t>(d);
      }
    };
    philox::Words counter;
    uint32_t key[2];
    words(0, 4, counter.w);
    words(1, 2, key);
    philox::Words result = philox::philox4x32_10(counter, key[0], key[1]);
    Napi::Array out = Napi::Array::New(info.Env(), 4);
    for (uint32_t i = 0; i < 4; i++) out.Set(i, Napi::Number::New(info.Env(), result.w[i]));
    return out;
  });
}

}  // namespace kdsr

using kdsr::KdsrAddon;
NODE_API_ADDON(KdsrAddon)
