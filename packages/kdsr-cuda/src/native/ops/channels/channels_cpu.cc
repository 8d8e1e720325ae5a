// Channel concatenation and slicing of (B,C,H,W) tensors, and the slice's backward. Every one of
// them moves whole H*W planes, so each is a parallel loop of plane copies (dtype-independent).
#include <cstring>

#include "../../core/parallel.h"
#include "../common/checks.h"

namespace kdsr {
namespace {

// Copies channels [src_start, src_start + count) of every sample of src into channels
// [dst_start, dst_start + count) of dst; both are (B,*,H,W) with the same B, H, W and dtype.
void copy_channels(const Tensor& src, int64_t src_start, const Tensor& dst, int64_t dst_start, int64_t count) {
  const int64_t batch = src.dim(0), src_channels = src.dim(1), dst_channels = dst.dim(1);
  const size_t plane_bytes = static_cast<size_t>(src.dim(2) * src.dim(3)) * dtype_size(src.dtype());
  const char* from = static_cast<const char*>(src.raw());
  char* to = static_cast<char*>(dst.raw());
  parallel_for(batch * count, [&](int64_t p) {
    int64_t b = p / count, c = p % count;
    std::memcpy(to + ((b * dst_channels + dst_start + c) * plane_bytes), from + ((b * src_channels + src_start + c) * plane_bytes), plane_bytes);
  }, grain_for(src.dim(2) * src.dim(3)));
}

Tensors concat_channels_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& a = in[0];
  const Tensor& b = in[1];
  check_rank(attrs.op(), a, 4, "a");
  check_rank(attrs.op(), b, 4, "b");
  KDSR_CHECK(a.dim(0) == b.dim(0) && a.dim(2) == b.dim(2) && a.dim(3) == b.dim(3), attrs.op(), "a ", shape_str(a.shape()), " and b ",
             shape_str(b.shape()), " must agree in every dimension but the channels");
  KDSR_CHECK(a.dtype() == b.dtype(), attrs.op(), "a and b must have the same dtype");
  Tensor y = Tensor::empty({a.dim(0), a.dim(1) + b.dim(1), a.dim(2), a.dim(3)}, a.dtype(), a.device());
  copy_channels(a, 0, y, 0, a.dim(1));
  copy_channels(b, 0, y, a.dim(1), b.dim(1));
  return {y};
}

Tensors slice_channels_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  check_rank(attrs.op(), x, 4, "x");
  int64_t start = attrs.integer("start"), length = attrs.integer("length");
  KDSR_CHECK(start >= 0 && length >= 1 && start + length <= x.dim(1), attrs.op(), "channels [", start, ", ", start + length,
             ") are not inside the ", x.dim(1), " channels of x");
  Tensor y = Tensor::empty({x.dim(0), length, x.dim(2), x.dim(3)}, x.dtype(), x.device());
  copy_channels(x, start, y, 0, length);
  return {y};
}

Tensors slice_channels_backward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& dy = in[0];
  check_rank(attrs.op(), dy, 4, "dy");
  int64_t start = attrs.integer("start"), channels = attrs.integer("channels");
  KDSR_CHECK(start >= 0 && start + dy.dim(1) <= channels, attrs.op(), "channels [", start, ", ", start + dy.dim(1), ") of dy do not fit in ",
             channels, " channels");
  Tensor dx = Tensor::empty({dy.dim(0), channels, dy.dim(2), dy.dim(3)}, dy.dtype(), dy.device());
  const int64_t length = dy.dim(1);
  const size_t plane_bytes = static_cast<size_t>(dy.dim(2) * dy.dim(3)) * dtype_size(dy.dtype());
  char* to = static_cast<char*>(dx.raw());
  // Zero only the planes outside the slice; the slice's planes are copied over.
  parallel_for(dy.dim(0) * channels, [&](int64_t p) {
    int64_t c = p % channels;
    if (c < start || c >= start + length) std::memset(to + p * plane_bytes, 0, plane_bytes);
  }, grain_for(dy.dim(2) * dy.dim(3)));
  copy_channels(dy, 0, dx, start, length);
  return {dx};
}

KDSR_REGISTER_KERNEL("concat_channels", "cpu", "reference", ({DType::F32, DType::F64}), concat_channels_forward);
KDSR_REGISTER_KERNEL("slice_channels", "cpu", "reference", ({DType::F32, DType::F64}), slice_channels_forward);
KDSR_REGISTER_KERNEL("slice_channels_backward", "cpu", "reference", ({DType::F32, DType::F64}), slice_channels_backward);

}  // namespace
}  // namespace kdsr
