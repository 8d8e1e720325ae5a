// Explicit SIMD for our own CPU kernels, without intrinsics: GCC/Clang vector extensions of W bytes.
// A hot loop is written once, templated on W, and compiled three times (core/cpu_isa.h): with
// 64-byte vectors for x86-64-v4 (one AVX-512 register), 32-byte ones for x86-64-v3 (one AVX2
// register) and 16-byte ones for baseline x86-64 (SSE2). Each vector must fit one register of its
// target: a wider one is split by GCC into pieces that go through the stack (on AVX2, 64-byte
// vectors made the dynamic convolution 2-3x slower). dispatch<Kernel>(args...) calls
// Kernel::run<W>(args...) in the variant of the active instruction set; everything run calls
// must be inlined into it (KDSR_ALWAYS_INLINE) to be compiled for that target.
#pragma once
#include <cstring>

#include "../../core/cpu_isa.h"

#define KDSR_ALWAYS_INLINE inline __attribute__((always_inline))

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define KDSR_CPU_VARIANTS 1
#define KDSR_TARGET_AVX512 __attribute__((target("arch=x86-64-v4")))
#define KDSR_TARGET_AVX2 __attribute__((target("arch=x86-64-v3")))
// Vectors are only passed between always-inlined functions, so the ABI note does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
#else
#define KDSR_CPU_VARIANTS 0
#endif

namespace kdsr {
namespace simd {

template <typename T, int W>
struct VecOf {
  typedef T type __attribute__((vector_size(W)));
};
// W bytes of T.
template <typename T, int W>
using Vec = typename VecOf<T, W>::type;

// Elements in one Vec<T, W>.
template <typename T, int W>
constexpr int lanes = W / sizeof(T);

template <int W, typename T>
KDSR_ALWAYS_INLINE Vec<T, W> load(const T* p) {
  Vec<T, W> v;
  std::memcpy(&v, p, sizeof v);  // unaligned load
  return v;
}

template <int W, typename T>
KDSR_ALWAYS_INLINE void store(T* p, const Vec<T, W>& v) {
  std::memcpy(p, &v, sizeof v);
}

template <int W, typename T>
KDSR_ALWAYS_INLINE T sum(const Vec<T, W>& v) {
  T s = 0;
  for (int l = 0; l < lanes<T, W>; l++) s += v[l];
  return s;
}

#if KDSR_CPU_VARIANTS
template <typename Kernel, typename... Args>
KDSR_TARGET_AVX512 auto run_avx512(Args... args) {
  return Kernel::template run<64>(args...);
}
template <typename Kernel, typename... Args>
KDSR_TARGET_AVX2 auto run_avx2(Args... args) {
  return Kernel::template run<32>(args...);
}
#endif
template <typename Kernel, typename... Args>
auto run_baseline(Args... args) {
  return Kernel::template run<16>(args...);
}

// Kernel::run<W>(args...) in the variant of the active instruction set (cpu_isa()).
template <typename Kernel, typename... Args>
KDSR_ALWAYS_INLINE auto dispatch(Args... args) {
#if KDSR_CPU_VARIANTS
  switch (cpu_isa()) {
    case CpuIsa::Avx512: return run_avx512<Kernel>(args...);
    case CpuIsa::Avx2: return run_avx2<Kernel>(args...);
    default: break;
  }
#endif
  return run_baseline<Kernel>(args...);
}

}  // namespace simd
}  // namespace kdsr
