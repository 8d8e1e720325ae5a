// The arithmetic of diff_jpeg, shared by its CPU and CUDA kernels so that both make the same
// quantisation decisions and give the same output bit for bit: every value is computed in double by
// the same sequence of correctly rounded operations (+, -, *, /, sqrt; no FMA contraction, see
// no_fp_contract.h), and the one transcendental input, the DCT basis (cos), is computed once on the
// host (jpeg_constants(), diff_jpeg_cpu.cc) and handed to the device. The DCT is evaluated per
// coefficient as 8-term sums in a fixed order (two passes each way) rather than by a fast DCT, so
// that a GPU thread per coefficient computes exactly what the CPU loop does.
//
// Block layout: 64 doubles, [row][column] for pixels, [u][v] for coefficients (u vertical frequency).
#pragma once
#include <cmath>
#include <cstdint>

#include "../common/checks.h"
#include "../common/host_device.h"
#include "../common/no_fp_contract.h"

namespace kdsr {
namespace jpeg {

struct Constants {
  // basis[u * 8 + x] = α(u)/2 · cos((2x + 1) u π / 16): F = A P Aᵀ is the 8x8 DCT-II of the reference.
  double basis[64];
  // Quantisation tables as applied: table[0] luma (the transpose of the printed Annex K table, as the
  // reference applies it), table[1] chroma; entry [u * 8 + v] divides coefficient [u][v].
  double table[2][64];
};

// Built once, on the host (diff_jpeg_cpu.cc).
const Constants& constants();

// The validated geometry: x (B,3,H,W), quality (B); planes zero-padded to multiples of 16.
struct Geometry {
  int64_t batch, h, w, hp, wp, luma_blocks, chroma_blocks;
};

inline Geometry geometry(const std::string& op, const Tensor& x, const Tensor& quality) {
  check_rank(op, x, 4, "x");
  check_rank(op, quality, 1, "quality");
  KDSR_CHECK(x.dim(1) == 3, op, "x must have 3 channels (RGB), got shape ", shape_str(x.shape()));
  KDSR_CHECK(quality.dim(0) == x.dim(0), op, "quality must hold one value per sample (", x.dim(0), "), got ", quality.dim(0));
  KDSR_CHECK(quality.dtype() == x.dtype(), op, "quality must have the dtype of x");
  Geometry g{x.dim(0), x.dim(2), x.dim(3), (x.dim(2) + 15) / 16 * 16, (x.dim(3) + 15) / 16 * 16, 0, 0};
  g.luma_blocks = (g.hp / 8) * (g.wp / 8);
  g.chroma_blocks = (g.hp / 16) * (g.wp / 16);
  return g;
}

KDSR_HOST_DEVICE inline bool valid_quality(double q) { return q > 0 && q <= 100; }

// The scale of the tables for quality q in (0, 100].
KDSR_HOST_DEVICE inline double quality_factor(double q) { return q < 50 ? 50.0 / q : (200.0 - 2.0 * q) / 100.0; }

// JFIF RGB -> YCbCr on the 0..255 scale (padding pixels are R = G = B = 0).
struct Ycc {
  double y, cb, cr;
};
KDSR_HOST_DEVICE inline Ycc rgb_to_ycbcr(double R, double G, double B) {
  return {0.299 * R + 0.587 * G + 0.114 * B, -0.168736 * R - 0.331264 * G + 0.5 * B + 128.0, 0.5 * R - 0.418688 * G - 0.081312 * B + 128.0};
}

// 4:2:0 subsampling: the mean of a 2x2 square, top row first.
KDSR_HOST_DEVICE inline double mean4(double top_left, double top_right, double bottom_left, double bottom_right) {
  return (top_left + top_right + bottom_left + bottom_right) / 4.0;
}

// Pixel [x][y] of a block -> first pass tmp[u][y] = sum_x A[u][x] (P[x][y] - 128).
KDSR_HOST_DEVICE inline double dct_pass1(const double* basis, const double* block, int u, int y) {
  double s = 0;
  for (int x = 0; x < 8; x++) s += basis[u * 8 + x] * (block[x * 8 + y] - 128.0);
  return s;
}

// Second pass: F[u][v] = sum_y tmp[u][y] A[v][y].
KDSR_HOST_DEVICE inline double dct_pass2(const double* basis, const double* tmp, int u, int v) {
  double s = 0;
  for (int y = 0; y < 8; y++) s += tmp[u * 8 + y] * basis[v * 8 + y];
  return s;
}

// The quantised coefficient: F / step rounded half to even (+0 for -0).
KDSR_HOST_DEVICE inline double quantise(double coefficient, double step) {
  using std::nearbyint;
  return nearbyint(coefficient / step) + 0.0;
}

// Inverse, first pass: tmp[x][v] = sum_u A[u][x] F'[u][v].
KDSR_HOST_DEVICE inline double idct_pass1(const double* basis, const double* coef, int x, int v) {
  double s = 0;
  for (int u = 0; u < 8; u++) s += basis[u * 8 + x] * coef[u * 8 + v];
  return s;
}

// Inverse, second pass: P'[x][y] = sum_v tmp[x][v] A[v][y] + 128.
KDSR_HOST_DEVICE inline double idct_pass2(const double* basis, const double* tmp, int x, int y) {
  double s = 0;
  for (int v = 0; v < 8; v++) s += tmp[x * 8 + v] * basis[v * 8 + y];
  return s + 128.0;
}

// YCbCr (chroma with its 128 offset already removed) -> R, G, B on the 0..255 scale, unclamped.
struct Rgb {
  double r, g, b;
};
KDSR_HOST_DEVICE inline Rgb ycbcr_to_rgb(double Y, double Cb, double Cr) { return {Y + 1.402 * Cr, Y - 0.344136 * Cb - 0.714136 * Cr, Y + 1.772 * Cb}; }

// A decoded 0..255 value -> the output in [0, 1] (clamped, not rounded to levels).
KDSR_HOST_DEVICE inline double to_unit(double v) {
  using std::fmax;
  using std::fmin;
  return fmin(fmax(v, 0.0), 255.0) / 255.0;
}

}  // namespace jpeg
}  // namespace kdsr
