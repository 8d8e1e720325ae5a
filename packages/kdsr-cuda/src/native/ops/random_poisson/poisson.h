// The per-element algorithm of random_poisson, shared by its CPU and CUDA kernels: element e's draw is
// a pure function of (seed, e, rate), so both backends produce the same stream.
//
// Element e = offset + i (row-major) reads its own counter sequence (e mod 2^32, floor(e / 2^32), j,
// 0x706f6973) for j = 0, 1, ... under key (seed mod 2^32, floor(seed / 2^32)); the fourth word 'pois'
// keeps these counters apart from random_uniform's blocks (fourth word 0). Each counter gives two 53-bit
// uniforms. Rates below 10 use Knuth's product of uniforms; larger rates Hörmann's transformed
// rejection with squeeze (PTRS, as numpy), both exact in distribution.
//
// The uniforms are bit-identical everywhere, and so is all the arithmetic on them (correctly rounded
// operations, no FMA contraction: no_fp_contract.h; log k! below 64 from one host table). What remains
// is exp and log, which the CPU takes from libm and the GPU from CUDA's libdevice, both within 1 ulp:
// a count can differ only when a comparison against such a value is decided within an ulp, a chance of
// the order of 1e-16 per comparison.
#pragma once
#include <cmath>
#include <cstdint>

#include "../common/checks.h"
#include "../common/host_device.h"
#include "../common/no_fp_contract.h"
#include "../random/philox.h"

namespace kdsr {
namespace poisson {

constexpr double kTwoPow53 = 9007199254740992.0;
constexpr uint32_t kTag = 0x706f6973u;
constexpr int kRateSplit = 10;  // Knuth below, PTRS from here on
constexpr int kTableSize = 64;

// The seed and offset attributes: integers in [0, 2^53).
inline uint64_t stream_position(const Attrs& attrs, const char* name) {
  const double v = attrs.number(name);
  KDSR_CHECK(v >= 0 && v < kTwoPow53 && std::floor(v) == v, attrs.op(), name, " must be an integer in [0, 2^53), got ", v);
  return static_cast<uint64_t>(v);
}

// log(k!) for k < 64, each the exact sum of the log(i) (libm's), built once on the host (random_poisson_cpu.cc).
struct LogFactorialTable {
  double v[kTableSize];
};
const LogFactorialTable& log_factorial_table();

// Uniform doubles of one element's private stream.
class ElementStream {
 public:
  KDSR_HOST_DEVICE ElementStream(uint64_t seed, uint64_t element) : seed_(seed), element_(element) {}

  // In [0, 1), 53 bits.
  KDSR_HOST_DEVICE double next() {
    if (used_ == 2) refill();
    const uint32_t hi = words_.w[2 * used_] >> 5, lo = words_.w[2 * used_ + 1] >> 6;
    used_++;
    return (static_cast<double>(hi) * 67108864.0 + lo) / kTwoPow53;
  }

 private:
  KDSR_HOST_DEVICE void refill() {
    const philox::Words counter{{static_cast<uint32_t>(element_), static_cast<uint32_t>(element_ >> 32), counter_++, kTag}};
    words_ = philox::philox4x32_10(counter, static_cast<uint32_t>(seed_), static_cast<uint32_t>(seed_ >> 32));
    used_ = 0;
  }

  uint64_t seed_, element_;
  uint32_t counter_ = 0;
  philox::Words words_{};
  int used_ = 2;
};

// log(k!): the table below 64, Stirling's series above (error < 1e-15 relative).
KDSR_HOST_DEVICE inline double log_factorial(int64_t k, const LogFactorialTable& table) {
  using std::log;
  if (k < kTableSize) return table.v[k];
  const double n = static_cast<double>(k) + 1.0;  // log Γ(n)
  const double inv = 1.0 / n, inv2 = inv * inv;
  return (n - 0.5) * log(n) - n + 0.91893853320467274178 + inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 / 1680)));
}

KDSR_HOST_DEVICE inline int64_t knuth(double lambda, ElementStream& s) {
  using std::exp;
  const double limit = exp(-lambda);
  int64_t k = 0;
  double p = s.next();
  while (p > limit) {
    k++;
    p *= s.next();
  }
  return k;
}

// W. Hörmann, "The transformed rejection method for generating Poisson random variables" (1993).
KDSR_HOST_DEVICE inline int64_t ptrs(double lambda, ElementStream& s, const LogFactorialTable& table) {
  using std::fabs;
  using std::floor;
  using std::log;
  using std::sqrt;
  const double slam = sqrt(lambda), loglam = log(lambda);
  const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  const double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double u = s.next() - 0.5;
    const double v = 1.0 - s.next();  // (0, 1]
    const double us = 0.5 - fabs(u);
    const int64_t k = static_cast<int64_t>(floor((2 * a / us + b) * u + lambda + 0.43));
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (log(v) + log(invalpha) - log(a / (us * us) + b) <= -lambda + k * loglam - log_factorial(k, table)) return k;
  }
}

// The draw of element `element` (offset + index) with rate lambda >= 0 (finite).
KDSR_HOST_DEVICE inline int64_t draw(double lambda, uint64_t seed, uint64_t element, const LogFactorialTable& table) {
  if (lambda == 0) return 0;
  ElementStream s(seed, element);
  return lambda < kRateSplit ? knuth(lambda, s) : ptrs(lambda, s, table);
}

}  // namespace poisson
}  // namespace kdsr
