// CPU parallelism: OpenMP, the same runtime oneDNN (Debian build) uses, so the two share one pool.
#pragma once
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace kdsr {

// Runs body(i) for i in [0, n) across threads; chunks are static so results never depend on timing.
// With n <= grain the loop runs on the calling thread: too little work to pay for waking the team.
template <typename F>
void parallel_for(int64_t n, F&& body, int64_t grain = 1) {
#pragma omp parallel for schedule(static) if (n > grain)
  for (int64_t i = 0; i < n; i++) body(i);
}

// Elements of simple work (a few flops each) below which threading does not pay: starting a parallel
// region costs microseconds, far more on an oversubscribed machine (PyTorch's GRAIN_SIZE is the same).
constexpr int64_t kParallelMinElements = 1 << 15;

// Runs body(begin, end) over [0, n) cut into one contiguous range per thread (boundaries on
// multiples of 64 elements, so threads never share a cache line of float or double data). For
// elementwise loops: a plain loop over a range is what the compiler vectorises, where a call per
// index through parallel_for is not. n <= grain runs body(0, n) on the calling thread.
template <typename F>
void parallel_for_range(int64_t n, F&& body, int64_t grain = kParallelMinElements) {
  if (n <= 0) return;
#ifdef _OPENMP
  if (n > grain && omp_get_max_threads() > 1) {
#pragma omp parallel
    {
      const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
      const int64_t chunk = ((n + threads - 1) / threads + 63) / 64 * 64;
      const int64_t begin = t * chunk < n ? t * chunk : n, end = begin + chunk < n ? begin + chunk : n;
      if (begin < end) body(begin, end);
    }
    return;
  }
#endif
  body(int64_t{0}, n);
}

// The grain for parallel_for over iterations that each touch `elements_per_iteration` elements.
inline int64_t grain_for(int64_t elements_per_iteration) {
  return elements_per_iteration >= kParallelMinElements ? 1 : kParallelMinElements / (elements_per_iteration < 1 ? 1 : elements_per_iteration);
}

inline int num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// The calling thread's index in the current parallel region (0 outside one).
inline int thread_num() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

inline void set_num_threads(int n) {
#ifdef _OPENMP
  omp_set_num_threads(n);
#else
  (void)n;
#endif
}

}  // namespace kdsr
