// Conversions between JS values and native ones, with errors that name the argument.
#pragma once
#include <napi.h>

#include "../core/attrs.h"
#include "../core/tensor.h"

namespace kdsr {

Shape shape_from_js(const Napi::Value& value, const std::string& what);
Napi::Array shape_to_js(Napi::Env env, const Shape& shape);
Attrs attrs_from_js(const std::string& op, const Napi::Value& value);

}  // namespace kdsr
