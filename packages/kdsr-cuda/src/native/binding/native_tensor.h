// The JS handle of a native tensor. dispose() releases the storage at once; the GC finalizer
// only catches handles that were never disposed.
#pragma once
#include <napi.h>

#include "../core/tensor.h"

namespace kdsr {

class NativeTensor : public Napi::ObjectWrap<NativeTensor> {
 public:
  static Napi::Function define(Napi::Env env);
  static Napi::Object wrap(Napi::Env env, Tensor tensor);
  // The tensor behind a JS value; throws a JS TypeError naming `what` if it is not a live handle.
  static const Tensor& unwrap(const Napi::Value& value, const std::string& what);

  explicit NativeTensor(const Napi::CallbackInfo& info);

 private:
  Napi::Value shape(const Napi::CallbackInfo& info);
  Napi::Value dtype(const Napi::CallbackInfo& info);
  Napi::Value device(const Napi::CallbackInfo& info);
  Napi::Value disposed(const Napi::CallbackInfo& info);
  Napi::Value read(const Napi::CallbackInfo& info);
  Napi::Value write(const Napi::CallbackInfo& info);
  Napi::Value reshape(const Napi::CallbackInfo& info);
  Napi::Value to(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);

  const Tensor& live(Napi::Env env) const;

  Tensor tensor_;
};

}  // namespace kdsr
