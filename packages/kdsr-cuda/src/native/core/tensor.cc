#include "tensor.h"

#include <sstream>

namespace kdsr {

std::string shape_str(const Shape& s) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < s.size(); i++) out << (i ? "," : "") << s[i];
  out << "]";
  return out.str();
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Storage::Storage(Device device, size_t bytes) : device_(device), bytes_(bytes), data_(allocator_for(device).allocate(bytes)) {}

Storage::~Storage() { allocator_for(device_).release(data_, bytes_); }

Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape, DType dtype)
    : storage_(std::move(storage)), shape_(std::move(shape)), dtype_(dtype) {}

Tensor Tensor::empty(const Shape& shape, DType dtype, const Device& device) {
  for (int64_t d : shape)
    if (d < 0) throw Error(concat("invalid shape ", shape_str(shape), ": negative dimension"));
  size_t bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  return Tensor(std::make_shared<Storage>(device, bytes), shape, dtype);
}

Tensor Tensor::reshaped(const Shape& shape) const {
  if (shape_numel(shape) != numel())
    throw Error(concat("Error in reshape: cannot view ", shape_str(shape_), " (", numel(), " elements) as ", shape_str(shape)));
  return Tensor(storage_, shape, dtype_);
}

}  // namespace kdsr
