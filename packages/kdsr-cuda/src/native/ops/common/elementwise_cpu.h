// Elementwise loops of the CPU kernels: y[i] = f(a[i]) or f(a[i], b[i]), each thread running a plain
// loop over one contiguous range (parallel_for_range) that the compiler vectorises; f is inlined into
// it, so it should be a branch-free expression (a ?: of values is fine). Results do not depend on
// the thread count: every element is computed on its own.
//
// The loops work on local copies of f and the pointers: read through the closure, a capture of f used
// on one side of a ?: (s in x > 0 ? x : s * x) is a conditional load, which stops GCC vectorising.
#pragma once
#include <cstdint>

#include "../../core/parallel.h"

namespace kdsr {

template <typename T, typename F>
void map_elements(int64_t n, T* y, const T* a, F f) {
  parallel_for_range(n, [=](int64_t begin, int64_t end) {
    const F op = f;
    T* out = y;
    const T* x = a;
    for (int64_t i = begin; i < end; i++) out[i] = op(x[i]);
  });
}

template <typename T, typename F>
void map_elements(int64_t n, T* y, const T* a, const T* b, F f) {
  parallel_for_range(n, [=](int64_t begin, int64_t end) {
    const F op = f;
    T* out = y;
    const T* x0 = a;
    const T* x1 = b;
    for (int64_t i = begin; i < end; i++) out[i] = op(x0[i], x1[i]);
  });
}

}  // namespace kdsr
