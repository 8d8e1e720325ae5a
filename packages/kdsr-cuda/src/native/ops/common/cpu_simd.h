// Explicit SIMD for our own CPU kernels, without intrinsics: GCC/Clang vector extensions give a
// 64-byte vector type that compiles to one AVX-512 register, two AVX2 ones or four SSE ones.
// Hot loops are written once on it and compiled for several instruction sets, the loader
// picking one at startup, so a source build is fast on AVX-512 / AVX2+FMA machines and still
// runs on any x86-64. KDSR_CPU_CLONES marks the non-template entry point; everything it calls
// must be inlined into it (KDSR_ALWAYS_INLINE) to be compiled for each target.
#pragma once
#include <cstring>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define KDSR_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
// Vectors are only passed between always-inlined functions, so the ABI note does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
#else
#define KDSR_CPU_CLONES
#endif

#define KDSR_ALWAYS_INLINE inline __attribute__((always_inline))

namespace kdsr {
namespace simd {

template <typename T>
struct VecOf {
  typedef T type __attribute__((vector_size(64)));
};
template <typename T>
using Vec = typename VecOf<T>::type;

// Elements in one Vec<T>.
template <typename T>
constexpr int lanes = 64 / sizeof(T);

template <typename T>
KDSR_ALWAYS_INLINE Vec<T> load(const T* p) {
  Vec<T> v;
  std::memcpy(&v, p, sizeof v);  // unaligned load
  return v;
}

template <typename T>
KDSR_ALWAYS_INLINE void store(T* p, const Vec<T>& v) {
  std::memcpy(p, &v, sizeof v);
}

template <typename T>
KDSR_ALWAYS_INLINE T sum(const Vec<T>& v) {
  T s = 0;
  for (int l = 0; l < lanes<T>; l++) s += v[l];
  return s;
}

}  // namespace simd
}  // namespace kdsr
