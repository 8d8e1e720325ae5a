// parallel_for with a private scratch buffer per thread, for kernels that work on one image plane
// at a time in a padded copy. The buffer is allocated before the parallel region, so an
// allocation failure is an ordinary exception rather than a crash inside OpenMP.
#pragma once
#include <cstdint>
#include <vector>

#include "../../core/parallel.h"

namespace kdsr {

// Runs body(i, scratch) for i in [0, n); scratch points at `size` elements owned by the calling
// thread. With n <= grain the loop runs on the calling thread (see parallel_for).
template <typename T, typename F>
void parallel_for_scratch(int64_t n, size_t size, F&& body, int64_t grain = 1) {
  const int threads = num_threads();
  std::vector<T> scratch(static_cast<size_t>(threads) * size);
  T* base = scratch.data();
#pragma omp parallel for schedule(static) num_threads(threads) if (n > grain)
  for (int64_t i = 0; i < n; i++) {
#ifdef _OPENMP
    const size_t thread = static_cast<size_t>(omp_get_thread_num());
#else
    const size_t thread = 0;
#endif
    body(i, base + thread * size);
  }
}

}  // namespace kdsr
