// Element types. float32 is the working type; float64 exists on the CPU reference path so that
// gradient checks by finite differences are not drowned by rounding. Room is left for f16/bf16.
#pragma once
#include <cstddef>
#include <string>

#include "error.h"

namespace kdsr {

enum class DType { F32, F64 };

inline size_t dtype_size(DType t) { return t == DType::F32 ? 4 : 8; }

inline const char* dtype_name(DType t) { return t == DType::F32 ? "float32" : "float64"; }

inline DType parse_dtype(const std::string& s) {
  if (s == "float32") return DType::F32;
  if (s == "float64") return DType::F64;
  throw Error(concat("unknown dtype '", s, "' (expected 'float32' or 'float64')"));
}

// Calls f with a value of the C++ scalar type matching t: dispatch_dtype(t, [&](auto zero) { using T = decltype(zero); ... }).
template <typename F>
decltype(auto) dispatch_dtype(DType t, F&& f) {
  if (t == DType::F32) return f(float{});
  return f(double{});
}

}  // namespace kdsr
