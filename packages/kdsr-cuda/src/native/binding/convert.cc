#include "convert.h"

#include <cmath>

namespace kdsr {

Shape shape_from_js(const Napi::Value& value, const std::string& what) {
  if (!value.IsArray()) throw Error(concat(what, " must be an array of non-negative integers"));
  Napi::Array array = value.As<Napi::Array>();
  Shape shape;
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value v = array.Get(i);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0 && std::floor(d) == d)) throw Error(concat(what, " must be an array of non-negative integers"));
    shape.push_back(static_cast<int64_t>(d));
  }
  return shape;
}

Napi::Array shape_to_js(Napi::Env env, const Shape& shape) {
  Napi::Array out = Napi::Array::New(env, shape.size());
  for (size_t i = 0; i < shape.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(shape[i])));
  return out;
}

Attrs attrs_from_js(const std::string& op, const Napi::Value& value) {
  std::map<std::string, AttrValue> values;
  if (value.IsObject()) {
    Napi::Object object = value.As<Napi::Object>();
    Napi::Array names = object.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string name = names.Get(i).As<Napi::String>().Utf8Value();
      Napi::Value v = object.Get(name);
      if (v.IsUndefined() || v.IsNull()) continue;  // absent optional attribute
      if (v.IsNumber()) {
        values[name] = v.As<Napi::Number>().DoubleValue();
      } else if (v.IsBoolean()) {
        values[name] = v.As<Napi::Boolean>().Value();
      } else if (v.IsString()) {
        values[name] = v.As<Napi::String>().Utf8Value();
      } else if (v.IsArray()) {
        Napi::Array array = v.As<Napi::Array>();
        std::vector<double> list;
        for (uint32_t j = 0; j < array.Length(); j++) {
          Napi::Value e = array.Get(j);
          if (!e.IsNumber()) throw Error(concat("Error in ", op, ": attribute '", name, "' must be a list of numbers"));
          list.push_back(e.As<Napi::Number>().DoubleValue());
        }
        values[name] = std::move(list);
      } else {
        throw Error(concat("Error in ", op, ": attribute '", name, "' has an unsupported type"));
      }
    }
  }
  return Attrs(op, std::move(values));
}

}  // namespace kdsr
