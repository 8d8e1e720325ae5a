// A device is 'cpu' or 'cuda:N'.
#pragma once
#include <string>

#include "error.h"

namespace kdsr {

enum class DeviceType { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const { return type == DeviceType::CPU ? "cpu" : concat("cuda:", index); }
  const char* backend() const { return type == DeviceType::CPU ? "cpu" : "cuda"; }
};

inline Device parse_device(const std::string& s) {
  if (s == "cpu") return Device{DeviceType::CPU, 0};
  if (s == "cuda") return Device{DeviceType::CUDA, 0};
  if (s.rfind("cuda:", 0) == 0 && s.size() > 5) {
    size_t used = 0;
    int index = -1;
    try {
      index = std::stoi(s.substr(5), &used);
    } catch (...) {
      used = 0;
    }
    if (used == s.size() - 5 && index >= 0) return Device{DeviceType::CUDA, index};
  }
  throw Error(concat("unknown device '", s, "' (expected 'cpu' or 'cuda:N')"));
}

}  // namespace kdsr
