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

inline void set_num_threads(int n) {
#ifdef _OPENMP
  omp_set_num_threads(n);
#else
  (void)n;
#endif
}

}  // namespace kdsr
