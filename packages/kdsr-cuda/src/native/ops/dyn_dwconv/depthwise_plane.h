// Single-plane building blocks of the dynamic depthwise convolution. Every plane is first copied
// into a padded buffer (zero or reflect border), so the correlation loops below never test for
// borders: they run over contiguous columns, one vector of W bytes (cpu_simd.h) at a time.
#pragma once
#include <cstdint>
#include <cstring>

#include "../common/cpu_simd.h"

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

using simd::lanes;
using simd::load;
using simd::Vec;

// Whether K*K vector accumulators, a vector of g and a loaded vector fit the registers of a W-byte
// target (32 zmm for AVX-512, 16 ymm / xmm below): kernel_grad_fixed spills them otherwise.
template <int W, int K>
constexpr bool grad_taps_fit_registers = K * K + 2 <= (W == 64 ? 32 : 16);

// out (ho x wo) = valid cross-correlation of in (ld columns, at least ho+k-1 rows and wo+k-1
// columns) with a k x k kernel. Outputs are accumulated in registers over all taps and stored
// once, four vectors at a time so that four multiply-add chains are in flight; K > 0 makes k a
// compile-time constant (the tap loops unroll).
template <int W, typename T, int K>
KDSR_ALWAYS_INLINE void correlate_k(const T* __restrict in, int64_t ld, const T* __restrict kernel, int k_runtime, T* __restrict out, int64_t ho,
                                    int64_t wo) {
  constexpr int L = lanes<T, W>;
  constexpr int B = 4;
  const int k = K > 0 ? K : k_runtime;
  for (int64_t r = 0; r < ho; r++) {
    const T* __restrict base = in + r * ld;
    T* __restrict o = out + r * wo;
    int64_t q = 0;
    for (; q + B * L <= wo; q += B * L) {
      Vec<T, W> acc[B] = {};
      for (int u = 0; u < k; u++)
        for (int v = 0; v < k; v++) {
          const T tap = kernel[u * k + v];
          const T* src = base + u * ld + q + v;
          for (int j = 0; j < B; j++) acc[j] += tap * load<W>(src + j * L);
        }
      for (int j = 0; j < B; j++) simd::store<W>(o + q + j * L, acc[j]);
    }
    for (; q + L <= wo; q += L) {
      Vec<T, W> acc = {};
      for (int u = 0; u < k; u++)
        for (int v = 0; v < k; v++) acc += kernel[u * k + v] * load<W>(base + u * ld + q + v);
      simd::store<W>(o + q, acc);
    }
    for (; q < wo; q++) {
      T acc = 0;
      for (int u = 0; u < k; u++)
        for (int v = 0; v < k; v++) acc += kernel[u * k + v] * base[u * ld + q + v];
      o[q] = acc;
    }
  }
}

template <int W, typename T>
KDSR_ALWAYS_INLINE void correlate(const T* in, int64_t ld, const T* kernel, int k, T* out, int64_t ho, int64_t wo) {
  switch (k) {
    case 1: return correlate_k<W, T, 1>(in, ld, kernel, k, out, ho, wo);
    case 3: return correlate_k<W, T, 3>(in, ld, kernel, k, out, ho, wo);
    case 5: return correlate_k<W, T, 5>(in, ld, kernel, k, out, ho, wo);
    case 7: return correlate_k<W, T, 7>(in, ld, kernel, k, out, ho, wo);
    default: return correlate_k<W, T, 0>(in, ld, kernel, k, out, ho, wo);
  }
}

// dkernel[u][v] = sum_{r,q} g[r][q] * in[r+u][q+v]: the kernel gradient of correlate (g has h x w
// values, ldg columns). For a compile-time K every tap keeps a vector of per-lane partial sums in
// a register and each vector of g is loaded once for all K*K taps.
template <int W, typename T, int K>
KDSR_ALWAYS_INLINE void kernel_grad_fixed(const T* __restrict g, int64_t ldg, const T* __restrict in, int64_t ld, int64_t h, int64_t w, T* __restrict dkernel) {
  constexpr int L = lanes<T, W>;
  Vec<T, W> acc[K * K] = {};
  T tail[K * K] = {};
  for (int64_t r = 0; r < h; r++) {
    const T* __restrict gr = g + r * ldg;
    const T* __restrict base = in + r * ld;
    int64_t q = 0;
    for (; q + L <= w; q += L) {
      const Vec<T, W> gv = load<W>(gr + q);
      for (int u = 0; u < K; u++)
        for (int v = 0; v < K; v++) acc[u * K + v] += gv * load<W>(base + u * ld + q + v);
    }
    for (; q < w; q++)
      for (int u = 0; u < K; u++)
        for (int v = 0; v < K; v++) tail[u * K + v] += gr[q] * base[u * ld + q + v];
  }
  for (int t = 0; t < K * K; t++) dkernel[t] = simd::sum<W, T>(acc[t]) + tail[t];
}

// dkernel[u][v0 .. v0+V) for any k: each vector of g serves V independent partial sums.
template <int W, typename T, int V>
KDSR_ALWAYS_INLINE void kernel_grad_taps(const T* __restrict g, int64_t ldg, const T* __restrict in, int64_t ld, int64_t h, int64_t w, int k, int u, int v0,
                                         T* __restrict dkernel) {
  constexpr int L = lanes<T, W>;
  Vec<T, W> acc[V] = {};
  T tail[V] = {};
  for (int64_t r = 0; r < h; r++) {
    const T* __restrict gr = g + r * ldg;
    const T* __restrict xr = in + (r + u) * ld + v0;
    int64_t q = 0;
    for (; q + L <= w; q += L) {
      const Vec<T, W> gv = load<W>(gr + q);
      for (int j = 0; j < V; j++) acc[j] += gv * load<W>(xr + q + j);
    }
    for (; q < w; q++)
      for (int j = 0; j < V; j++) tail[j] += gr[q] * xr[q + j];
  }
  for (int j = 0; j < V; j++) dkernel[u * k + v0 + j] = simd::sum<W, T>(acc[j]) + tail[j];
}

template <int W, typename T>
KDSR_ALWAYS_INLINE void kernel_grad_any(const T* g, int64_t ldg, const T* in, int64_t ld, int64_t h, int64_t w, int k, T* dkernel) {
  for (int u = 0; u < k; u++) {
    int v = 0;
    for (; v + 8 <= k; v += 8) kernel_grad_taps<W, T, 8>(g, ldg, in, ld, h, w, k, u, v, dkernel);
    for (; v + 4 <= k; v += 4) kernel_grad_taps<W, T, 4>(g, ldg, in, ld, h, w, k, u, v, dkernel);
    for (; v < k; v++) kernel_grad_taps<W, T, 1>(g, ldg, in, ld, h, w, k, u, v, dkernel);
  }
}

template <int W, typename T>
KDSR_ALWAYS_INLINE void correlate_kernel_grad(const T* g, int64_t ldg, const T* in, int64_t ld, int64_t h, int64_t w, int k, T* dkernel) {
  switch (k) {
    case 1: return kernel_grad_fixed<W, T, 1>(g, ldg, in, ld, h, w, dkernel);
    case 3: return kernel_grad_fixed<W, T, 3>(g, ldg, in, ld, h, w, dkernel);
    case 5:
      if constexpr (grad_taps_fit_registers<W, 5>) return kernel_grad_fixed<W, T, 5>(g, ldg, in, ld, h, w, dkernel);
      return kernel_grad_any<W>(g, ldg, in, ld, h, w, k, dkernel);
    default: return kernel_grad_any<W>(g, ldg, in, ld, h, w, k, dkernel);
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
