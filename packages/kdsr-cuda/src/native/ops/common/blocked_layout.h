// The channel-blocked layout of the inference-only ops (to_blocked, conv2d_blocked, dyn_dwconv_blocked,
// pixel_shuffle_blocked, from_blocked): a (B, C, H, W) feature map stored as the row-major tensor
// (B, ceil(C / b), H, W, b), channel c in block c / b at lane c % b, the lanes past C zero. b = 1 is
// NCHW, b = C is NHWC (channels last), b = 8 and 16 are oneDNN's nChw8c and nChw16c: a network whose
// activations all stay in the layout its convolutions run fastest in (conv2d_block_size) needs no
// conversion between layers. The tensor's shape holds b; the true channel count C comes from the
// op's other operands (weights, kernels) or attributes, and is trusted within the last block (the
// shape of 5 channels in blocks of 8 is that of 8 channels).
#pragma once
#include <cstdint>
#include <string>

#include "checks.h"

namespace kdsr {

struct BlockedShape {
  int64_t batch, channels, blocks, height, width, block;

  Shape shape() const { return {batch, blocks, height, width, block}; }
  // Element offset of (n, c, y, x).
  int64_t index(int64_t n, int64_t c, int64_t y, int64_t x) const { return (((n * blocks + c / block) * height + y) * width + x) * block + c % block; }
  // Elements of one (n, block) slab: H * W * b.
  int64_t slab() const { return height * width * block; }
};

inline BlockedShape blocked_shape(int64_t batch, int64_t channels, int64_t height, int64_t width, int64_t block) {
  return BlockedShape{batch, channels, (channels + block - 1) / block, height, width, block};
}

// The layout of a blocked tensor t holding `channels` channels; checks that its shape fits them.
inline BlockedShape blocked_shape_of(const std::string& op, const Tensor& t, int64_t channels, const char* name) {
  check_rank(op, t, 5, name);
  const int64_t block = t.dim(4);
  KDSR_CHECK(block >= 1 && t.dim(1) == (channels + block - 1) / block, op, name, " ", shape_str(t.shape()), " does not hold ", channels,
             " channels in blocks of ", block, " (expected ", (channels + block - 1) / block, " blocks)");
  return BlockedShape{t.dim(0), channels, t.dim(1), t.dim(2), t.dim(3), block};
}

inline int64_t checked_block(const std::string& op, const Attrs& attrs) {
  const int64_t block = attrs.integer("block");
  KDSR_CHECK(block >= 1, op, "block must be at least 1, got ", block);
  return block;
}

}  // namespace kdsr
