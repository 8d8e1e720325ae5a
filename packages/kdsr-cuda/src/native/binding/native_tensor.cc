#include "native_tensor.h"

#include "../core/backend.h"
#include "addon.h"
#include "convert.h"

namespace kdsr {

Napi::Function NativeTensor::define(Napi::Env env) {
  return DefineClass(env, "NativeTensor",
                     {
                         InstanceAccessor<&NativeTensor::shape>("shape"),
                         InstanceAccessor<&NativeTensor::dtype>("dtype"),
                         InstanceAccessor<&NativeTensor::device>("device"),
                         InstanceAccessor<&NativeTensor::disposed>("disposed"),
                         InstanceMethod<&NativeTensor::read>("read"),
                         InstanceMethod<&NativeTensor::write>("write"),
                         InstanceMethod<&NativeTensor::reshape>("reshape"),
                         InstanceMethod<&NativeTensor::to>("to"),
                         InstanceMethod<&NativeTensor::dispose>("dispose"),
                     });
}

// Native code creates handles by constructing the class with a pending tensor (never from JS).
Napi::Object NativeTensor::wrap(Napi::Env env, Tensor tensor) {
  KdsrAddon* addon = env.GetInstanceData<KdsrAddon>();
  addon->pending = std::move(tensor);
  return addon->tensor_class.New({});
}

NativeTensor::NativeTensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeTensor>(info) {
  KdsrAddon* addon = info.Env().GetInstanceData<KdsrAddon>();
  if (!addon->pending.defined()) throw Napi::TypeError::New(info.Env(), "NativeTensor cannot be constructed directly; use fromArray()");
  tensor_ = std::move(addon->pending);
  addon->pending = Tensor();
}

const Tensor& NativeTensor::unwrap(const Napi::Value& value, const std::string& what) {
  KdsrAddon* addon = value.Env().GetInstanceData<KdsrAddon>();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(addon->tensor_class.Value()))
    throw Error(concat(what, " is not a tensor"));
  NativeTensor* handle = Unwrap(value.As<Napi::Object>());
  if (!handle->tensor_.defined()) throw Error(concat(what, " has been disposed"));
  return handle->tensor_;
}

const Tensor& NativeTensor::live(Napi::Env env) const {
  if (!tensor_.defined()) throw Napi::Error::New(env, "tensor has been disposed");
  return tensor_;
}

Napi::Value NativeTensor::shape(const Napi::CallbackInfo& info) { return shape_to_js(info.Env(), live(info.Env()).shape()); }

Napi::Value NativeTensor::dtype(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), dtype_name(live(info.Env()).dtype())); }

Napi::Value NativeTensor::device(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), live(info.Env()).device().str()); }

Napi::Value NativeTensor::disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !tensor_.defined()); }

// read(): a new Float32Array / Float64Array holding a copy of the data (synchronises with the device).
Napi::Value NativeTensor::read(const Napi::CallbackInfo& info) {
  const Tensor& t = live(info.Env());
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(info.Env(), t.nbytes());
  copy_to_host(t, buffer.Data());
  if (t.dtype() == DType::F32) return Napi::Float32Array::New(info.Env(), t.numel(), buffer, 0);
  return Napi::Float64Array::New(info.Env(), t.numel(), buffer, 0);
}

// write(typedArray): overwrites the tensor's data with a host array of the same dtype and length.
Napi::Value NativeTensor::write(const Napi::CallbackInfo& info) {
  const Tensor& t = live(info.Env());
  if (info.Length() < 1 || !info[0].IsTypedArray()) throw Error("write() expects a Float32Array or Float64Array");
  Napi::TypedArray array = info[0].As<Napi::TypedArray>();
  bool matches = (t.dtype() == DType::F32 && array.TypedArrayType() == napi_float32_array) ||
                 (t.dtype() == DType::F64 && array.TypedArrayType() == napi_float64_array);
  if (!matches) throw Error(concat("write(): a ", dtype_name(t.dtype()), " tensor needs a ", t.dtype() == DType::F32 ? "Float32Array" : "Float64Array"));
  if (static_cast<int64_t>(array.ElementLength()) != t.numel())
    throw Error(concat("write(): array has ", array.ElementLength(), " elements, tensor ", shape_str(t.shape()), " has ", t.numel()));
  copy_from_host(t, static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset());
  return info.Env().Undefined();
}

Napi::Value NativeTensor::reshape(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), live(info.Env()).reshaped(shape_from_js(info[0], "reshape(): shape")));
}

Napi::Value NativeTensor::to(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) throw Error("to() expects a device name such as 'cpu' or 'cuda:0'");
  return wrap(info.Env(), copy_to_device(live(info.Env()), parse_device(info[0].As<Napi::String>().Utf8Value())));
}

Napi::Value NativeTensor::dispose(const Napi::CallbackInfo& info) {
  tensor_ = Tensor();
  return info.Env().Undefined();
}

}  // namespace kdsr
