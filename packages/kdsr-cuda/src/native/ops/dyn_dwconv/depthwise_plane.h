// Single-plane building blocks of the dynamic depthwise convolution. Every plane is first copied
// into a padded buffer (zero or reflect border), so the correlation loops below never test for
// borders: their inner loop runs over contiguous columns and vectorises.
#pragma once
#include <cstdint>
#include <cstring>

#include "../common/cpu_clones.h"

namespace kdsr {
namespace depthwise {

enum class Padding { Zero, Reflect };

// Reflect index without repeating the edge (-1 -> 1, n -> n-2); valid for -n < t < 2n-1.
KDSR_ALWAYS_INLINE int64_t reflect_index(int64_t t, int64_t n) { return t < 0 ? -t : (t >= n ? 2 * (n - 1) - t : t); }

// dst ((h+2p) x (w+2p)) = src (h x w) with a border of p: zeros, or the mirror image (needs p < h, p < w).
template <typename T>
KDSR_ALWAYS_INLINE void pad_plane(const T* __restrict src, int64_t h, int64_t w, int64_t p, Padding mode, T* __restrict dst) {
  const int64_t pw = w + 2 * p;
  for (int64_t i = 0; i < h + 2 * p; i++) {
    T* __restrict row = dst + i * pw;
    int64_t r = i - p;
    if (mode == Padding::Zero) {
      if (r < 0 || r >= h) {
        std::memset(row, 0, sizeof(T) * pw);
        continue;
      }
      std::memset(row, 0, sizeof(T) * p);
      std::memcpy(row + p, src + r * w, sizeof(T) * w);
      std::memset(row + p + w, 0, sizeof(T) * p);
    } else {
      const T* __restrict s = src + reflect_index(r, h) * w;
      for (int64_t j = 0; j < p; j++) row[j] = s[p - j];
      std::memcpy(row + p, s, sizeof(T) * w);
      for (int64_t j = 0; j < p; j++) row[p + w + j] = s[w - 2 - j];
    }
  }
}

// out (ho x wo) = valid cross-correlation of in (ld columns, at least ho+K-1 rows and wo+K-1
// columns) with the K x K kernel. K is a compile-time constant: every tap stays in a register
// and each output is written once.
template <typename T, int K>
KDSR_ALWAYS_INLINE void correlate_fixed(const T* __restrict in, int64_t ld, const T* __restrict kernel, T* __restrict out, int64_t ho, int64_t wo) {
  T taps[K * K];
  for (int t = 0; t < K * K; t++) taps[t] = kernel[t];
  for (int64_t r = 0; r < ho; r++) {
    const T* __restrict base = in + r * ld;
    T* __restrict o = out + r * wo;
    for (int64_t q = 0; q < wo; q++) {
      T s = 0;
      for (int u = 0; u < K; u++)
        for (int v = 0; v < K; v++) s += taps[u * K + v] * base[u * ld + q + v];
      o[q] = s;
    }
  }
}

// The same for any k: one vectorised multiply-add pass over the output row per tap.
template <typename T>
KDSR_ALWAYS_INLINE void correlate_any(const T* __restrict in, int64_t ld, const T* __restrict kernel, int k, T* __restrict out, int64_t ho, int64_t wo) {
  for (int64_t r = 0; r < ho; r++) {
    T* __restrict o = out + r * wo;
    for (int64_t q = 0; q < wo; q++) o[q] = 0;
    for (int u = 0; u < k; u++) {
      const T* __restrict row = in + (r + u) * ld;
      for (int v = 0; v < k; v++) {
        const T tap = kernel[u * k + v];
        const T* __restrict shifted = row + v;
        for (int64_t q = 0; q < wo; q++) o[q] += tap * shifted[q];
      }
    }
  }
}

template <typename T>
KDSR_ALWAYS_INLINE void correlate(const T* in, int64_t ld, const T* kernel, int k, T* out, int64_t ho, int64_t wo) {
  switch (k) {
    case 1: return correlate_fixed<T, 1>(in, ld, kernel, out, ho, wo);
    case 3: return correlate_fixed<T, 3>(in, ld, kernel, out, ho, wo);
    case 5: return correlate_fixed<T, 5>(in, ld, kernel, out, ho, wo);
    case 7: return correlate_fixed<T, 7>(in, ld, kernel, out, ho, wo);
    default: return correlate_any(in, ld, kernel, k, out, ho, wo);
  }
}

// dkernel[u][v] = sum_{r,q} g[r][q] * in[r+u][q+v]: the kernel gradient of correlate.
template <typename T>
KDSR_ALWAYS_INLINE void correlate_kernel_grad(const T* __restrict g, int64_t ldg, const T* __restrict in, int64_t ld, int64_t h, int64_t w, int k, T* __restrict dkernel) {
  for (int u = 0; u < k; u++) {
    for (int v = 0; v < k; v++) {
      T s = 0;
      for (int64_t r = 0; r < h; r++) {
        const T* __restrict gr = g + r * ldg;
        const T* __restrict xr = in + (r + u) * ld + v;
#pragma omp simd reduction(+ : s)
        for (int64_t q = 0; q < w; q++) s += gr[q] * xr[q];
      }
      dkernel[u * k + v] = s;
    }
  }
}

// Folds the gradient of a reflect-padded plane ((h+2p) x (w+2p), modified in place) onto the
// plane it was padded from: each border pixel adds onto the pixel it mirrored, rows first, then
// columns (the padding is separable), then the interior is copied out.
template <typename T>
KDSR_ALWAYS_INLINE void fold_reflect(T* __restrict padded, int64_t h, int64_t w, int64_t p, T* __restrict out) {
  const int64_t pw = w + 2 * p;
  for (int64_t i = 0; i < h + 2 * p; i++) {
    int64_t r = i - p;
    if (r >= 0 && r < h) continue;
    T* __restrict target = padded + (p + reflect_index(r, h)) * pw;
    const T* __restrict source = padded + i * pw;
    for (int64_t j = 0; j < pw; j++) target[j] += source[j];
  }
  for (int64_t r = 0; r < h; r++) {
    T* __restrict row = padded + (p + r) * pw;
    for (int64_t j = 0; j < p; j++) row[p + reflect_index(j - p, w)] += row[j];
    for (int64_t j = p + w; j < pw; j++) row[p + reflect_index(j - p, w)] += row[j];
    std::memcpy(out + r * w, row + p, sizeof(T) * w);
  }
}

}  // namespace depthwise
}  // namespace kdsr
