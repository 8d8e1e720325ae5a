// Op attributes as they arrive from JS: numbers, number lists, strings, booleans; absent = not given.
#pragma once
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "error.h"

namespace kdsr {

using AttrValue = std::variant<double, std::vector<double>, std::string, bool>;

class Attrs {
 public:
  Attrs(std::string op, std::map<std::string, AttrValue> values) : op_(std::move(op)), values_(std::move(values)) {}

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  double number(const std::string& name) const { return get<double>(name, "a number"); }
  double number_or(const std::string& name, double fallback) const { return has(name) ? number(name) : fallback; }
  int64_t integer(const std::string& name) const {
    double v = number(name);
    KDSR_CHECK(v == static_cast<double>(static_cast<int64_t>(v)), op_, "attribute '", name, "' must be an integer, got ", v);
    return static_cast<int64_t>(v);
  }
  std::vector<int64_t> integers(const std::string& name) const {
    std::vector<int64_t> out;
    for (double v : get<std::vector<double>>(name, "a list of integers")) {
      KDSR_CHECK(v == static_cast<double>(static_cast<int64_t>(v)), op_, "attribute '", name, "' must hold integers, got ", v);
      out.push_back(static_cast<int64_t>(v));
    }
    return out;
  }
  const std::string& string(const std::string& name) const { return get<std::string>(name, "a string"); }
  bool flag(const std::string& name) const { return get<bool>(name, "a boolean"); }
  bool flag_or(const std::string& name, bool fallback) const { return has(name) ? flag(name) : fallback; }
  const std::string& op() const { return op_; }

 private:
  template <typename T>
  const T& get(const std::string& name, const char* what) const {
    auto it = values_.find(name);
    KDSR_CHECK(it != values_.end(), op_, "missing attribute '", name, "'");
    const T* v = std::get_if<T>(&it->second);
    KDSR_CHECK(v != nullptr, op_, "attribute '", name, "' must be ", what);
    return *v;
  }

  std::string op_;
  std::map<std::string, AttrValue> values_;
};

}  // namespace kdsr
