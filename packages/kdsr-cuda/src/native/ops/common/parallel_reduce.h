// Deterministic parallel reductions over [0, n): the range is cut into chunks of a fixed size
// (independent of the thread count), chunks are reduced in parallel and their results combined in
// chunk order, so a result never depends on the number of threads or on timing.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "../../core/parallel.h"

namespace kdsr {

constexpr int64_t kReduceChunk = 1 << 14;

// sum of term(i) for i in [0, n), accumulated in double.
template <typename F>
double parallel_sum(int64_t n, F&& term) {
  int64_t chunks = (n + kReduceChunk - 1) / kReduceChunk;
  std::vector<double> partial(static_cast<size_t>(chunks), 0.0);
  parallel_for(chunks, [&](int64_t c) {
    int64_t end = std::min(n, (c + 1) * kReduceChunk);
    double s = 0;
    for (int64_t i = c * kReduceChunk; i < end; i++) s += term(i);
    partial[c] = s;
  }, grain_for(kReduceChunk));
  double total = 0;
  for (double s : partial) total += s;
  return total;
}

// Whether v replaces best as the maximum so far: a NaN wins (and propagates), ties keep the first.
template <typename T>
inline bool max_replaces(T v, T best) {
  return v > best || (std::isnan(v) && !std::isnan(best));
}

// The first index of the maximum of value(i) over [0, n), n > 0.
template <typename T, typename F>
int64_t parallel_argmax(int64_t n, F&& value) {
  int64_t chunks = (n + kReduceChunk - 1) / kReduceChunk;
  std::vector<int64_t> best(static_cast<size_t>(chunks));
  parallel_for(chunks, [&](int64_t c) {
    int64_t end = std::min(n, (c + 1) * kReduceChunk);
    int64_t b = c * kReduceChunk;
    for (int64_t i = b + 1; i < end; i++)
      if (max_replaces<T>(value(i), value(b))) b = i;
    best[c] = b;
  }, grain_for(kReduceChunk));
  int64_t b = best[0];
  for (int64_t i : best)
    if (max_replaces<T>(value(i), value(b))) b = i;
  return b;
}

}  // namespace kdsr
