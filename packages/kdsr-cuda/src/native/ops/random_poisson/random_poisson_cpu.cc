// Poisson draws with per-element rates, from the Philox4x32-10 generator of random_uniform; the
// stream and the algorithm (Knuth below rate 10, Hörmann's PTRS above) are in poisson.h, shared with
// the CUDA kernel.
#include <cmath>

#include "../../core/parallel.h"
#include "poisson.h"

namespace kdsr {
namespace poisson {

const LogFactorialTable& log_factorial_table() {
  static const LogFactorialTable table = [] {
    LogFactorialTable t;
    t.v[0] = 0;
    for (int i = 1; i < kTableSize; i++) t.v[i] = t.v[i - 1] + std::log(static_cast<double>(i));
    return t;
  }();
  return table;
}

}  // namespace poisson

namespace {

Tensors random_poisson_forward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 1);
  const Tensor& rate = in[0];
  KDSR_CHECK(rate.defined(), op, "rate is required");
  const uint64_t seed = poisson::stream_position(attrs, "seed"), offset = poisson::stream_position(attrs, "offset");
  Tensor counts = Tensor::empty(rate.shape(), rate.dtype(), rate.device());
  const poisson::LogFactorialTable& table = poisson::log_factorial_table();
  dispatch_dtype(rate.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* rp = rate.data<T>();
    T* cp = counts.data<T>();
    const int64_t n = rate.numel();
    for (int64_t i = 0; i < n; i++)
      KDSR_CHECK(rp[i] >= 0 && std::isfinite(static_cast<double>(rp[i])), op, "rates must be finite and >= 0, got ", static_cast<double>(rp[i]), " at ", i);
    parallel_for(n, [&](int64_t i) { cp[i] = static_cast<T>(poisson::draw(static_cast<double>(rp[i]), seed, offset + static_cast<uint64_t>(i), table)); });
  });
  return {counts};
}

KDSR_REGISTER_KERNEL("random_poisson", "cpu", "reference", ({DType::F32, DType::F64}), random_poisson_forward);

}  // namespace
}  // namespace kdsr
