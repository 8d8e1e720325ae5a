// A tensor is a contiguous row-major (NCHW for images) block of one dtype on one device.
// Storage is reference counted, so reshape is a view that shares it; everything else allocates.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "allocator.h"
#include "device.h"
#include "dtype.h"

namespace kdsr {

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);

class Storage {
 public:
  Storage(Device device, size_t bytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  const Device& device() const { return device_; }

 private:
  Device device_;
  size_t bytes_;
  void* data_;
};

class Tensor {
 public:
  Tensor() = default;  // undefined: an absent optional input or output
  Tensor(std::shared_ptr<Storage> storage, Shape shape, DType dtype);

  // A new uninitialised tensor.
  static Tensor empty(const Shape& shape, DType dtype, const Device& device);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int64_t dim(int i) const { return shape_[i < 0 ? shape_.size() + i : i]; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  const Device& device() const { return storage_->device(); }
  void* raw() const { return storage_->data(); }
  template <typename T>
  T* data() const { return static_cast<T*>(storage_->data()); }
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  Tensor reshaped(const Shape& shape) const;

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_;
  DType dtype_ = DType::F32;
};

}  // namespace kdsr
