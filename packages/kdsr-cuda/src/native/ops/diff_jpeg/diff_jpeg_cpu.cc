// JPEG compression round trip with the semantics of BasicSR's DiffJPEG (non-differentiable mode),
// the JPEG of the Real-ESRGAN degradation: a float re-implementation of baseline JPEG, not libjpeg.
// Per sample b with quality q_b: factor f = 50/q (q < 50) or (200 - 2q)/100; zero-pad to multiples
// of 16; ×255; JFIF YCbCr; 4:2:0 chroma by 2x2 means; 8x8 DCT of (plane - 128); coefficients
// rounded (half to even) in units of table·f, the step a real number (no integer rounding or
// clamping of the scaled table); inverse DCT + 128; chroma upsampled by replication; back to RGB;
// clamped to [0, 255]; /255; cropped. The output is not rounded to 8-bit levels.
// The luma table is the transpose of the printed Annex K table, as the reference applies it.
// Arithmetic is in double whatever the dtype.
#include <cmath>
#include <vector>

#include "../../core/parallel.h"
#include "../common/checks.h"

namespace kdsr {
namespace {

// [u][v]: u vertical, v horizontal frequency (as applied by the reference).
constexpr double kLumaTable[8][8] = {
    {16, 12, 14, 14, 18, 24, 49, 72},    {11, 12, 13, 17, 22, 35, 64, 92},    {10, 14, 16, 22, 37, 55, 78, 95},
    {16, 19, 24, 29, 56, 64, 87, 98},    {24, 26, 40, 51, 68, 81, 103, 112},  {40, 58, 57, 87, 109, 104, 121, 100},
    {51, 60, 69, 80, 103, 113, 120, 103}, {61, 55, 56, 62, 77, 92, 101, 99}};

double chroma_table(int u, int v) {
  static const double top[4][4] = {{17, 18, 24, 47}, {18, 21, 26, 66}, {24, 26, 56, 99}, {47, 66, 99, 99}};
  return u < 4 && v < 4 ? top[u][v] : 99.0;
}

// A[u][x] = α(u)/2 · cos((2x + 1) u π / 16): F = A P Aᵀ is the 8x8 DCT-II of the reference.
struct DctBasis {
  double a[8][8];
  DctBasis() {
    for (int u = 0; u < 8; u++)
      for (int x = 0; x < 8; x++) a[u][x] = (u == 0 ? 1.0 / std::sqrt(2.0) : 1.0) / 2.0 * std::cos((2 * x + 1) * u * M_PI / 16.0);
  }
};

double quality_factor(double q) { return q < 50 ? 50.0 / q : (200.0 - 2.0 * q) / 100.0; }

// round half to even
double round_even(double v) { return std::nearbyint(v); }

// Compresses and reconstructs one 8x8 block in place (values are the plane values, 0..255 scale).
// Writes the quantised coefficients to coef (64 values, [u][v]) when coef is not null.
template <typename C>
void block_round_trip(double block[8][8], const DctBasis& basis, double factor, bool luma, C* coef) {
  double tmp[8][8];
  double f[8][8];
  // tmp = A (P - 128), F = tmp Aᵀ
  for (int u = 0; u < 8; u++)
    for (int y = 0; y < 8; y++) {
      double s = 0;
      for (int x = 0; x < 8; x++) s += basis.a[u][x] * (block[x][y] - 128.0);
      tmp[u][y] = s;
    }
  for (int u = 0; u < 8; u++)
    for (int v = 0; v < 8; v++) {
      double s = 0;
      for (int y = 0; y < 8; y++) s += tmp[u][y] * basis.a[v][y];
      const double step = (luma ? kLumaTable[u][v] : chroma_table(u, v)) * factor;
      const double q = round_even(s / step);
      if (coef) coef[u * 8 + v] = static_cast<C>(q + 0.0);  // -0 -> +0
      f[u][v] = q * step;
    }
  // P' = Aᵀ F' A + 128
  for (int x = 0; x < 8; x++)
    for (int v = 0; v < 8; v++) {
      double s = 0;
      for (int u = 0; u < 8; u++) s += basis.a[u][x] * f[u][v];
      tmp[x][v] = s;
    }
  for (int x = 0; x < 8; x++)
    for (int y = 0; y < 8; y++) {
      double s = 0;
      for (int v = 0; v < 8; v++) s += tmp[x][v] * basis.a[v][y];
      block[x][y] = s + 128.0;
    }
}

Tensors diff_jpeg_forward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 2);
  const Tensor& x = in[0];
  const Tensor& quality = in[1];
  check_rank(op, x, 4, "x");
  check_rank(op, quality, 1, "quality");
  KDSR_CHECK(x.dim(1) == 3, op, "x must have 3 channels (RGB), got shape ", shape_str(x.shape()));
  KDSR_CHECK(quality.dim(0) == x.dim(0), op, "quality must hold one value per sample (", x.dim(0), "), got ", quality.dim(0));
  KDSR_CHECK(quality.dtype() == x.dtype(), op, "quality must have the dtype of x");
  const bool need_coef = attrs.flag_or("need_coefficients", false);
  const int64_t batch = x.dim(0), h = x.dim(2), w = x.dim(3);
  const int64_t hp = (h + 15) / 16 * 16, wp = (w + 15) / 16 * 16;
  const int64_t luma_blocks = (hp / 8) * (wp / 8), chroma_blocks = (hp / 16) * (wp / 16);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor cy, ccb, ccr;
  if (need_coef) {
    cy = Tensor::empty({batch, luma_blocks, 8, 8}, x.dtype(), x.device());
    ccb = Tensor::empty({batch, chroma_blocks, 8, 8}, x.dtype(), x.device());
    ccr = Tensor::empty({batch, chroma_blocks, 8, 8}, x.dtype(), x.device());
  }
  static const DctBasis basis;
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    const T* qp = quality.data<T>();
    for (int64_t b = 0; b < batch; b++)
      KDSR_CHECK(qp[b] > 0 && qp[b] <= 100, op, "quality must be in (0, 100], got ", static_cast<double>(qp[b]), " for sample ", b);
    T* yp = y.data<T>();
    const int64_t mb_rows = hp / 16, mb_cols = wp / 16;
    // One task per (sample, 16-row macroblock row): the rows it reads and writes are its own.
    parallel_for(batch * mb_rows, [&](int64_t task) {
      const int64_t b = task / mb_rows, mr = task % mb_rows;
      const double factor = quality_factor(static_cast<double>(qp[b]));
      const T* r = xp + b * 3 * h * w;
      const T* g = r + h * w;
      const T* bl = g + h * w;
      // Full-resolution luma (16 rows) and 2x2-averaged chroma (8 rows) of this macroblock row.
      std::vector<double> yl(16 * wp), cb(8 * (wp / 2)), cr(8 * (wp / 2));
      std::vector<double> cbf(16 * wp), crf(16 * wp);
      for (int64_t i = 0; i < 16; i++)
        for (int64_t j = 0; j < wp; j++) {
          const int64_t row = mr * 16 + i;
          double R = 0, G = 0, B = 0;  // zero padding (black)
          if (row < h && j < w) {
            R = 255.0 * r[row * w + j];
            G = 255.0 * g[row * w + j];
            B = 255.0 * bl[row * w + j];
          }
          yl[i * wp + j] = 0.299 * R + 0.587 * G + 0.114 * B;
          cbf[i * wp + j] = -0.168736 * R - 0.331264 * G + 0.5 * B + 128.0;
          crf[i * wp + j] = 0.5 * R - 0.418688 * G - 0.081312 * B + 128.0;
        }
      const int64_t cw = wp / 2;
      for (int64_t i = 0; i < 8; i++)
        for (int64_t j = 0; j < cw; j++) {
          auto mean = [&](const std::vector<double>& p) {
            return (p[(2 * i) * wp + 2 * j] + p[(2 * i) * wp + 2 * j + 1] + p[(2 * i + 1) * wp + 2 * j] + p[(2 * i + 1) * wp + 2 * j + 1]) / 4.0;
          };
          cb[i * cw + j] = mean(cbf);
          cr[i * cw + j] = mean(crf);
        }
      double block[8][8];
      // Luma: blocks (2 rows of wp/8), block index in row-major order over the padded plane.
      for (int64_t br = 0; br < 2; br++)
        for (int64_t bc = 0; bc < wp / 8; bc++) {
          for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++) block[i][j] = yl[(br * 8 + i) * wp + bc * 8 + j];
          T* coef = need_coef ? cy.data<T>() + ((b * luma_blocks) + (mr * 2 + br) * (wp / 8) + bc) * 64 : nullptr;
          block_round_trip(block, basis, factor, true, coef);
          for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++) yl[(br * 8 + i) * wp + bc * 8 + j] = block[i][j];
        }
      for (int plane = 0; plane < 2; plane++) {
        std::vector<double>& c = plane == 0 ? cb : cr;
        for (int64_t bc = 0; bc < mb_cols; bc++) {
          for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++) block[i][j] = c[i * cw + bc * 8 + j];
          T* coef = need_coef ? (plane == 0 ? ccb : ccr).data<T>() + ((b * chroma_blocks) + mr * mb_cols + bc) * 64 : nullptr;
          block_round_trip(block, basis, factor, false, coef);
          for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++) c[i * cw + bc * 8 + j] = block[i][j];
        }
      }
      T* out_r = yp + b * 3 * h * w;
      T* out_g = out_r + h * w;
      T* out_b = out_g + h * w;
      for (int64_t i = 0; i < 16; i++) {
        const int64_t row = mr * 16 + i;
        if (row >= h) break;
        for (int64_t j = 0; j < w; j++) {
          const double Y = yl[i * wp + j];
          const double Cb = cb[(i / 2) * cw + j / 2] - 128.0;
          const double Cr = cr[(i / 2) * cw + j / 2] - 128.0;
          auto out = [](double v) { return static_cast<T>(std::fmin(std::fmax(v, 0.0), 255.0) / 255.0); };
          out_r[row * w + j] = out(Y + 1.402 * Cr);
          out_g[row * w + j] = out(Y - 0.344136 * Cb - 0.714136 * Cr);
          out_b[row * w + j] = out(Y + 1.772 * Cb);
        }
      }
    });
  });
  return {y, cy, ccb, ccr};
}

KDSR_REGISTER_KERNEL("diff_jpeg", "cpu", "reference", ({DType::F32, DType::F64}), diff_jpeg_forward);

}  // namespace
}  // namespace kdsr
