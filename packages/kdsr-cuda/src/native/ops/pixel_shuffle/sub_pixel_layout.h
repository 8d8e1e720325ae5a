// The element correspondence of pixel_shuffle and pixel_unshuffle with factor r, shared by the CPU
// and CUDA kernels. It pairs a packed tensor (B, C*r*r, H, W) with a spread one (B, C, H*r, W*r):
//   packed[b, c*r*r + i*r + j, Y, X] = spread[b, c, Y*r + i, X*r + j]
// pixel_shuffle reads packed into spread, pixel_unshuffle the reverse (each the other's gradient).
#pragma once
#include <cstdint>

#include "../common/checks.h"
#include "../common/host_device.h"

namespace kdsr {

struct SubPixelLayout {
  int64_t r, height, width;  // the factor, and the plane of the packed tensor (H, W)

  // Offset of packed[b, c*r*r + i*r + j, Y, 0], with bc = b*C + c.
  KDSR_HOST_DEVICE int64_t packed_row(int64_t bc, int64_t i, int64_t j, int64_t Y) const { return ((bc * r * r + i * r + j) * height + Y) * width; }

  // Offset of spread[b, c, Y*r + i, 0].
  KDSR_HOST_DEVICE int64_t spread_row(int64_t bc, int64_t Y, int64_t i) const { return (bc * height * r + Y * r + i) * width * r; }

  // The packed offset of the element at spread offset s.
  KDSR_HOST_DEVICE int64_t packed_of_spread(int64_t s) const {
    const int64_t sw = width * r, sh = height * r;
    const int64_t x = s % sw, y = (s / sw) % sh, bc = s / (sw * sh);
    return packed_row(bc, y % r, x % r, y / r) + x / r;
  }

  // The spread offset of the element at packed offset p.
  KDSR_HOST_DEVICE int64_t spread_of_packed(int64_t p) const {
    const int64_t X = p % width, Y = (p / width) % height, plane = p / (width * height);  // plane = bc*r*r + i*r + j
    return spread_row(plane / (r * r), Y, (plane / r) % r) + X * r + plane % r;
  }
};

inline int64_t sub_pixel_factor(const Attrs& attrs) {
  const int64_t r = attrs.integer("factor");
  KDSR_CHECK(r >= 1, attrs.op(), "factor must be a positive integer, got ", r);
  return r;
}

// pixel_shuffle's input x is the packed tensor; y's shape is returned in out_shape.
inline SubPixelLayout pixel_shuffle_layout(const Attrs& attrs, const Tensor& x, Shape& out_shape) {
  check_rank(attrs.op(), x, 4, "x");
  const int64_t r = sub_pixel_factor(attrs);
  KDSR_CHECK(x.dim(1) % (r * r) == 0, attrs.op(), "the channels of x ", shape_str(x.shape()), " must be a multiple of factor^2 = ", r * r);
  out_shape = {x.dim(0), x.dim(1) / (r * r), x.dim(2) * r, x.dim(3) * r};
  return {r, x.dim(2), x.dim(3)};
}

// pixel_unshuffle's input x is the spread tensor; y's shape is returned in out_shape.
inline SubPixelLayout pixel_unshuffle_layout(const Attrs& attrs, const Tensor& x, Shape& out_shape) {
  check_rank(attrs.op(), x, 4, "x");
  const int64_t r = sub_pixel_factor(attrs);
  KDSR_CHECK(x.dim(2) % r == 0 && x.dim(3) % r == 0, attrs.op(), "the height and width of x ", shape_str(x.shape()), " must be multiples of the factor ", r);
  out_shape = {x.dim(0), x.dim(1) * r * r, x.dim(2) / r, x.dim(3) / r};
  return {r, x.dim(2) / r, x.dim(3) / r};
}

}  // namespace kdsr
