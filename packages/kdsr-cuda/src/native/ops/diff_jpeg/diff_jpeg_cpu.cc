// JPEG compression round trip with the semantics of BasicSR's DiffJPEG (non-differentiable mode),
// the JPEG of the Real-ESRGAN degradation: a float re-implementation of baseline JPEG, not libjpeg.
// Per sample b with quality q_b: factor f = 50/q (q < 50) or (200 - 2q)/100; zero-pad to multiples
// of 16; ×255; JFIF YCbCr; 4:2:0 chroma by 2x2 means; 8x8 DCT of (plane - 128); coefficients
// rounded (half to even) in units of table·f, the step a real number (no integer rounding or
// clamping of the scaled table); inverse DCT + 128; chroma upsampled by replication; back to RGB;
// clamped to [0, 255]; /255; cropped. The output is not rounded to 8-bit levels.
// The luma table is the transpose of the printed Annex K table, as the reference applies it.
// Arithmetic is in double whatever the dtype, formula by formula that of the CUDA kernel (jpeg_math.h).
#include <cmath>
#include <vector>

#include "../../core/parallel.h"
#include "jpeg_math.h"

namespace kdsr {
namespace jpeg {

const Constants& constants() {
  static const Constants c = [] {
    // [u][v]: u vertical, v horizontal frequency (as applied by the reference).
    static const double luma[8][8] = {
        {16, 12, 14, 14, 18, 24, 49, 72},    {11, 12, 13, 17, 22, 35, 64, 92},    {10, 14, 16, 22, 37, 55, 78, 95},
        {16, 19, 24, 29, 56, 64, 87, 98},    {24, 26, 40, 51, 68, 81, 103, 112},  {40, 58, 57, 87, 109, 104, 121, 100},
        {51, 60, 69, 80, 103, 113, 120, 103}, {61, 55, 56, 62, 77, 92, 101, 99}};
    static const double chroma_top[4][4] = {{17, 18, 24, 47}, {18, 21, 26, 66}, {24, 26, 56, 99}, {47, 66, 99, 99}};
    Constants k;
    for (int u = 0; u < 8; u++)
      for (int v = 0; v < 8; v++) {
        k.basis[u * 8 + v] = (u == 0 ? 1.0 / std::sqrt(2.0) : 1.0) / 2.0 * std::cos((2 * v + 1) * u * M_PI / 16.0);
        k.table[0][u * 8 + v] = luma[u][v];
        k.table[1][u * 8 + v] = u < 4 && v < 4 ? chroma_top[u][v] : 99.0;
      }
    return k;
  }();
  return c;
}

}  // namespace jpeg

namespace {

// Compresses and reconstructs one 8x8 block in place (values are the plane values, 0..255 scale).
// Writes the quantised coefficients to coef (64 values, [u][v]) when coef is not null.
template <typename C>
void block_round_trip(double* block, const jpeg::Constants& k, double factor, bool luma, C* coef) {
  double tmp[64], f[64];
  for (int u = 0; u < 8; u++)
    for (int y = 0; y < 8; y++) tmp[u * 8 + y] = jpeg::dct_pass1(k.basis, block, u, y);
  for (int u = 0; u < 8; u++)
    for (int v = 0; v < 8; v++) {
      const double step = k.table[luma ? 0 : 1][u * 8 + v] * factor;
      const double q = jpeg::quantise(jpeg::dct_pass2(k.basis, tmp, u, v), step);
      if (coef) coef[u * 8 + v] = static_cast<C>(q);
      f[u * 8 + v] = q * step;
    }
  for (int x = 0; x < 8; x++)
    for (int v = 0; v < 8; v++) tmp[x * 8 + v] = jpeg::idct_pass1(k.basis, f, x, v);
  for (int x = 0; x < 8; x++)
    for (int y = 0; y < 8; y++) block[x * 8 + y] = jpeg::idct_pass2(k.basis, tmp, x, y);
}

Tensors diff_jpeg_forward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 2);
  const Tensor& x = in[0];
  const Tensor& quality = in[1];
  const jpeg::Geometry geo = jpeg::geometry(op, x, quality);
  const bool need_coef = attrs.flag_or("need_coefficients", false);
  const int64_t batch = geo.batch, h = geo.h, w = geo.w, hp = geo.hp, wp = geo.wp;
  const int64_t luma_blocks = geo.luma_blocks, chroma_blocks = geo.chroma_blocks;
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor cy, ccb, ccr;
  if (need_coef) {
    cy = Tensor::empty({batch, luma_blocks, 8, 8}, x.dtype(), x.device());
    ccb = Tensor::empty({batch, chroma_blocks, 8, 8}, x.dtype(), x.device());
    ccr = Tensor::empty({batch, chroma_blocks, 8, 8}, x.dtype(), x.device());
  }
  const jpeg::Constants& k = jpeg::constants();
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    const T* qp = quality.data<T>();
    for (int64_t b = 0; b < batch; b++)
      KDSR_CHECK(jpeg::valid_quality(static_cast<double>(qp[b])), op, "quality must be in (0, 100], got ", static_cast<double>(qp[b]), " for sample ", b);
    T* yp = y.data<T>();
    const int64_t mb_rows = hp / 16, mb_cols = wp / 16;
    // One task per (sample, 16-row macroblock row): the rows it reads and writes are its own.
    parallel_for(batch * mb_rows, [&](int64_t task) {
      const int64_t b = task / mb_rows, mr = task % mb_rows;
      const double factor = jpeg::quality_factor(static_cast<double>(qp[b]));
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
          const jpeg::Ycc c = jpeg::rgb_to_ycbcr(R, G, B);
          yl[i * wp + j] = c.y;
          cbf[i * wp + j] = c.cb;
          crf[i * wp + j] = c.cr;
        }
      const int64_t cw = wp / 2;
      for (int64_t i = 0; i < 8; i++)
        for (int64_t j = 0; j < cw; j++) {
          auto mean = [&](const std::vector<double>& p) {
            return jpeg::mean4(p[(2 * i) * wp + 2 * j], p[(2 * i) * wp + 2 * j + 1], p[(2 * i + 1) * wp + 2 * j], p[(2 * i + 1) * wp + 2 * j + 1]);
          };
          cb[i * cw + j] = mean(cbf);
          cr[i * cw + j] = mean(crf);
        }
      double block[64];
      // Luma: blocks (2 rows of wp/8), block index in row-major order over the padded plane.
      for (int64_t br = 0; br < 2; br++)
        for (int64_t bc = 0; bc < wp / 8; bc++) {
          for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++) block[i * 8 + j] = yl[(br * 8 + i) * wp + bc * 8 + j];
          T* coef = need_coef ? cy.data<T>() + ((b * luma_blocks) + (mr * 2 + br) * (wp / 8) + bc) * 64 : nullptr;
          block_round_trip(block, k, factor, true, coef);
          for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++) yl[(br * 8 + i) * wp + bc * 8 + j] = block[i * 8 + j];
        }
      for (int plane = 0; plane < 2; plane++) {
        std::vector<double>& c = plane == 0 ? cb : cr;
        for (int64_t bc = 0; bc < mb_cols; bc++) {
          for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++) block[i * 8 + j] = c[i * cw + bc * 8 + j];
          T* coef = need_coef ? (plane == 0 ? ccb : ccr).data<T>() + ((b * chroma_blocks) + mr * mb_cols + bc) * 64 : nullptr;
          block_round_trip(block, k, factor, false, coef);
          for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++) c[i * cw + bc * 8 + j] = block[i * 8 + j];
        }
      }
      T* out_r = yp + b * 3 * h * w;
      T* out_g = out_r + h * w;
      T* out_b = out_g + h * w;
      for (int64_t i = 0; i < 16; i++) {
        const int64_t row = mr * 16 + i;
        if (row >= h) break;
        for (int64_t j = 0; j < w; j++) {
          const jpeg::Rgb rgb = jpeg::ycbcr_to_rgb(yl[i * wp + j], cb[(i / 2) * cw + j / 2] - 128.0, cr[(i / 2) * cw + j / 2] - 128.0);
          out_r[row * w + j] = static_cast<T>(jpeg::to_unit(rgb.r));
          out_g[row * w + j] = static_cast<T>(jpeg::to_unit(rgb.g));
          out_b[row * w + j] = static_cast<T>(jpeg::to_unit(rgb.b));
        }
      }
    });
  });
  return {y, cy, ccb, ccr};
}

KDSR_REGISTER_KERNEL("diff_jpeg", "cpu", "reference", ({DType::F32, DType::F64}), diff_jpeg_forward);

}  // namespace
}  // namespace kdsr
