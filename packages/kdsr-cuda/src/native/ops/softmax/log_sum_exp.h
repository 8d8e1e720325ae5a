// Numerically stable log(sum_i exp(scale * x[i])) over one row: the row's maximum is subtracted
// before exponentiating, so no term overflows and at least one term is exactly 1.
// Shared by softmax / log_softmax and the distillation loss.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace kdsr {

template <typename T>
double log_sum_exp(const T* x, int64_t n, double scale = 1.0) {
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; i++) m = std::max(m, scale * static_cast<double>(x[i]));
  if (!std::isfinite(m)) return m;  // every entry -inf (or one +inf): nothing finite to normalise by
  double sum = 0;
  for (int64_t i = 0; i < n; i++) sum += std::exp(scale * static_cast<double>(x[i]) - m);
  return m + std::log(sum);
}

}  // namespace kdsr
