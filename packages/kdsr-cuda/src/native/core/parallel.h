// CPU parallelism: OpenMP, the same runtime oneDNN (Debian build) uses, so the two share one pool.
#pragma once
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace kdsr {

// Runs body(i) for i in [0, n) across threads; chunks are static so results never depend on timing.
template <typename F>
void parallel_for(int64_t n, F&& body) {
#pragma omp parallel for schedule(static) if (n > 1)
  for (int64_t i = 0; i < n; i++) body(i);
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
