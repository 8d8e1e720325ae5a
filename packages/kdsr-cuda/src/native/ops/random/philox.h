// Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw, "Parallel random
// numbers: as easy as 1, 2, 3" (SC 2011; Random123, also cuRAND's default): a pure function from a
// 128-bit counter and a 64-bit key to 128 random bits. Any element of a stream can be computed on
// its own, on any thread or GPU lane, so CPU and CUDA kernels produce the same stream.
//
// kdsr's stream (op-table.json, random_uniform / random_normal): for a seed and a block offset,
// element i comes from block b = offset + floor(i / 4), computed with key (seed mod 2^32,
// floor(seed / 2^32)) and counter (b mod 2^32, floor(b / 2^32), 0, 0); it uses the block's word
// i mod 4 (uniform) or pair (i mod 4 < 2 ? words 0,1 : words 2,3) (normal, Box-Muller).
//
// This header is plain C++ usable from CUDA device code (compiled by nvcc, functions become
// __host__ __device__, see common/host_device.h).
#pragma once
#include <cmath>
#include <cstdint>

#include "../common/host_device.h"

namespace kdsr {
namespace philox {

struct Words {
  uint32_t w[4];
};

// Round multipliers and the Weyl sequence that advances the key (golden ratio, sqrt(3) - 1).
constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;

// The Philox4x32 bijection with 10 rounds (Random123's philox4x32_R(10, counter, key)).
KDSR_HOST_DEVICE inline Words philox4x32_10(Words counter, uint32_t key0, uint32_t key1) {
  Words c = counter;
  for (int round = 0; round < 10; round++) {
    if (round > 0) {
      key0 += kWeyl0;
      key1 += kWeyl1;
    }
    const uint64_t p0 = static_cast<uint64_t>(kMul0) * c.w[0];
    const uint64_t p1 = static_cast<uint64_t>(kMul1) * c.w[2];
    c = Words{{static_cast<uint32_t>(p1 >> 32) ^ c.w[1] ^ key0, static_cast<uint32_t>(p1),
               static_cast<uint32_t>(p0 >> 32) ^ c.w[3] ^ key1, static_cast<uint32_t>(p0)}};
  }
  return c;
}

// Block `block` of the stream of `seed` (see the header comment).
KDSR_HOST_DEVICE inline Words stream_block(uint64_t seed, uint64_t block) {
  const Words counter{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), 0u, 0u}};
  return philox4x32_10(counter, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// (w >> 8) * 2^-24: one of 2^24 evenly spaced values in [0, 1), exact in float and double.
template <typename T>
KDSR_HOST_DEVICE inline T uniform_co(uint32_t w) {
  return static_cast<T>(w >> 8) * static_cast<T>(1.0 / 16777216.0);
}

// ((w >> 8) + 1) * 2^-24, in (0, 1]: never 0, so log() in Box-Muller stays finite.
template <typename T>
KDSR_HOST_DEVICE inline T uniform_oc(uint32_t w) {
  return static_cast<T>((w >> 8) + 1u) * static_cast<T>(1.0 / 16777216.0);
}

// Box-Muller on one word pair: radius sqrt(-2 ln u1) with u1 in (0, 1], angle 2 pi u2 with u2 in
// [0, 1); the pair's two normal values are r cos(angle) and r sin(angle). Computed in T.
template <typename T>
KDSR_HOST_DEVICE inline T box_muller_radius(uint32_t w_radius) {
  using std::log;
  using std::sqrt;
  return sqrt(T(-2) * log(uniform_oc<T>(w_radius)));
}

template <typename T>
KDSR_HOST_DEVICE inline T box_muller_angle(uint32_t w_angle) {
  return static_cast<T>(6.283185307179586476925) * uniform_co<T>(w_angle);
}

// Element values of the stream (see the header comment): a uniform value in [lo, lo + span) from
// word w, and normal values with mean m and standard deviation s.
template <typename T>
KDSR_HOST_DEVICE inline T uniform_value(uint32_t w, T lo, T span) {
  return lo + span * uniform_co<T>(w);
}

// Both normal values of a word pair (elements 0 and 1, or 2 and 3, of a block).
template <typename T>
KDSR_HOST_DEVICE inline void normal_pair(uint32_t w_radius, uint32_t w_angle, T m, T s, T& first, T& second) {
  using std::cos;
  using std::sin;
  const T radius = box_muller_radius<T>(w_radius), angle = box_muller_angle<T>(w_angle);
  first = m + s * (radius * cos(angle));
  second = m + s * (radius * sin(angle));
}

// Element j (0..3) of a block's normal values alone: words (0,1) give j = 0, 1 and (2,3) give j = 2, 3.
template <typename T>
KDSR_HOST_DEVICE inline T normal_value(const Words& words, int j, T m, T s) {
  using std::cos;
  using std::sin;
  const int pair = j & 2;
  const T radius = box_muller_radius<T>(words.w[pair]), angle = box_muller_angle<T>(words.w[pair + 1]);
  return m + s * (radius * ((j & 1) == 0 ? cos(angle) : sin(angle)));
}

}  // namespace philox
}  // namespace kdsr
