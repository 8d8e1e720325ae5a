// Poisson draws with per-element rates, from the Philox4x32-10 generator of random_uniform.
// Element i (row-major) with e = offset + i reads its own counter sequence (e mod 2^32,
// floor(e / 2^32), j, 0x706f6973) for j = 0, 1, ... under key (seed mod 2^32, floor(seed / 2^32));
// the fourth word 'pois' keeps these counters apart from random_uniform's blocks (fourth word 0).
// Each counter gives two 53-bit uniforms. Rates below 10 use Knuth's product of uniforms; larger
// rates Hörmann's transformed rejection with squeeze (PTRS, as numpy), both exact in distribution.
#include <cmath>

#include "../../core/parallel.h"
#include "../common/checks.h"
#include "../random/philox.h"

namespace kdsr {
namespace {

constexpr double kTwoPow53 = 9007199254740992.0;
constexpr uint32_t kTag = 0x706f6973u;

// Uniform doubles of one element's private stream.
class ElementStream {
 public:
  ElementStream(uint64_t seed, uint64_t element) : seed_(seed), element_(element) {}

  // In [0, 1), 53 bits.
  double next() {
    if (used_ == 2) refill();
    const uint32_t hi = words_.w[2 * used_] >> 5, lo = words_.w[2 * used_ + 1] >> 6;
    used_++;
    return (static_cast<double>(hi) * 67108864.0 + lo) / kTwoPow53;
  }

 private:
  void refill() {
    const philox::Words counter{{static_cast<uint32_t>(element_), static_cast<uint32_t>(element_ >> 32), counter_++, kTag}};
    words_ = philox::philox4x32_10(counter, static_cast<uint32_t>(seed_), static_cast<uint32_t>(seed_ >> 32));
    used_ = 0;
  }

  uint64_t seed_, element_;
  uint32_t counter_ = 0;
  philox::Words words_{};
  int used_ = 2;
};

// log(k!) exactly summed below 64 (table), Stirling's series above (error < 1e-15 relative).
double log_factorial(int64_t k) {
  static const struct Table {
    double v[64];
    Table() {
      v[0] = 0;
      for (int i = 1; i < 64; i++) v[i] = v[i - 1] + std::log(static_cast<double>(i));
    }
  } table;
  if (k < 64) return table.v[k];
  const double n = static_cast<double>(k) + 1.0;  // log Γ(n)
  const double inv = 1.0 / n, inv2 = inv * inv;
  return (n - 0.5) * std::log(n) - n + 0.91893853320467274178 + inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 / 1680)));
}

int64_t poisson_knuth(double lambda, ElementStream& s) {
  const double limit = std::exp(-lambda);
  int64_t k = 0;
  double p = s.next();
  while (p > limit) {
    k++;
    p *= s.next();
  }
  return k;
}

// W. Hörmann, "The transformed rejection method for generating Poisson random variables" (1993).
int64_t poisson_ptrs(double lambda, ElementStream& s) {
  const double slam = std::sqrt(lambda), loglam = std::log(lambda);
  const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  const double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double u = s.next() - 0.5;
    const double v = 1.0 - s.next();  // (0, 1]
    const double us = 0.5 - std::fabs(u);
    const int64_t k = static_cast<int64_t>(std::floor((2 * a / us + b) * u + lambda + 0.43));
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(invalpha) - std::log(a / (us * us) + b) <= -lambda + k * loglam - log_factorial(k)) return k;
  }
}

uint64_t stream_position(const Attrs& attrs, const char* name) {
  const double v = attrs.number(name);
  KDSR_CHECK(v >= 0 && v < kTwoPow53 && std::floor(v) == v, attrs.op(), name, " must be an integer in [0, 2^53), got ", v);
  return static_cast<uint64_t>(v);
}

Tensors random_poisson_forward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 1);
  const Tensor& rate = in[0];
  KDSR_CHECK(rate.defined(), op, "rate is required");
  const uint64_t seed = stream_position(attrs, "seed"), offset = stream_position(attrs, "offset");
  Tensor counts = Tensor::empty(rate.shape(), rate.dtype(), rate.device());
  dispatch_dtype(rate.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* rp = rate.data<T>();
    T* cp = counts.data<T>();
    const int64_t n = rate.numel();
    for (int64_t i = 0; i < n; i++)
      KDSR_CHECK(rp[i] >= 0 && std::isfinite(static_cast<double>(rp[i])), op, "rates must be finite and >= 0, got ", static_cast<double>(rp[i]), " at ", i);
    parallel_for(n, [&](int64_t i) {
      const double lambda = static_cast<double>(rp[i]);
      if (lambda == 0) {
        cp[i] = T(0);
        return;
      }
      ElementStream s(seed, offset + static_cast<uint64_t>(i));
      cp[i] = static_cast<T>(lambda < 10 ? poisson_knuth(lambda, s) : poisson_ptrs(lambda, s));
    });
  });
  return {counts};
}

KDSR_REGISTER_KERNEL("random_poisson", "cpu", "reference", ({DType::F32, DType::F64}), random_poisson_forward);

}  // namespace
}  // namespace kdsr
