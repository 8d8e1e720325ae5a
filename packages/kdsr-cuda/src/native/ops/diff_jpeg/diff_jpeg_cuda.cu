// diff_jpeg on CUDA devices (see diff_jpeg_cpu.cc for the semantics): one thread block per 16x16
// macroblock of a sample, one thread per value of its six 8x8 blocks (four luma, Cb, Cr), the blocks in
// shared memory between the five steps (colour conversion and subsampling, two DCT passes with
// quantisation, two inverse passes), then one thread per pixel for the output.
//
// The output and the coefficients are those of the CPU kernel bit for bit, so the quantisation
// decisions (round(F / step), a discontinuous function of the input) are identical: every value is
// computed in double by the same formula as on the CPU (jpeg_math.h: the DCT as fixed-order 8-term sums
// per coefficient, not a fast DCT, which would round differently), this file is compiled without FMA
// contraction (nvcc's default would fuse the sums' a * b + s and round differently), and the DCT basis
// (cos) and the tables come from the host (jpeg::constants()), never from the device's cos.
//
// Not checked here (it would need a synchronising read-back): a quality outside (0, 100] makes its
// sample's output and coefficients NaN instead of raising the CPU's error.
#include <cmath>

#include "../../cuda/cuda_utils.cuh"
#include "jpeg_math.h"

namespace kdsr {
namespace {

constexpr int kBlocks = 6;                    // per macroblock: luma (top-left, top-right, bottom-left, bottom-right), Cb, Cr
constexpr int kThreads = kBlocks * 64;        // one per block value
constexpr int kPixels = 256;                  // 16x16 output pixels, the first 256 threads

struct Problem {
  int64_t h, w, wp, mb_rows, mb_cols, luma_blocks, chroma_blocks;
};

// ----------------------------------------------------------------------------
// CUDA kernels

// JFIF YCbCr of pixel (row, col) of a sample's RGB planes (0..255 scale), black outside the image.
__device__ __forceinline__ jpeg::Ycc pixel_ycc(const float* rgb, const Problem& P, int64_t row, int64_t col) {
  double R = 0, G = 0, B = 0;
  if (row < P.h && col < P.w) {
    const int64_t i = row * P.w + col, plane = P.h * P.w;
    R = 255.0 * rgb[i];
    G = 255.0 * rgb[plane + i];
    B = 255.0 * rgb[2 * plane + i];
  }
  return jpeg::rgb_to_ycbcr(R, G, B);
}

// grid (B * mb_rows * mb_cols), block kThreads. Thread t handles value t % 64 ([row][column], then
// [u][v]) of block t / 64. Coefficient outputs are written when coef_y is not null.
__global__ void diff_jpeg_forward_kernel1(float* y, float* coef_y, float* coef_cb, float* coef_cr, const float* x, const float* quality,
                                          const __grid_constant__ jpeg::Constants k, Problem P) {
  __shared__ double basis[64];
  __shared__ double blocks[kBlocks * 64];
  __shared__ double tmp[kBlocks * 64];
  const int t = threadIdx.x, block = t / 64, e = t % 64, r = e / 8, c = e % 8;
  const int64_t per_sample = P.mb_rows * P.mb_cols;
  const int64_t b = blockIdx.x / per_sample, mr = blockIdx.x % per_sample / P.mb_cols, mc = blockIdx.x % P.mb_cols;
  const int64_t row0 = mr * 16, col0 = mc * 16;
  const double q = quality[b];
  const bool valid = jpeg::valid_quality(q);
  const double factor = jpeg::quality_factor(q);
  const float* rgb = x + b * 3 * P.h * P.w;
  if (t < 64) basis[t] = k.basis[t];

  // Luma at full resolution; chroma as the mean of the 2x2 pixels it covers.
  if (block < 4) {
    blocks[t] = pixel_ycc(rgb, P, row0 + block / 2 * 8 + r, col0 + block % 2 * 8 + c).y;
  } else {
    const int64_t row = row0 + 2 * r, col = col0 + 2 * c;
    const jpeg::Ycc tl = pixel_ycc(rgb, P, row, col), tr = pixel_ycc(rgb, P, row, col + 1);
    const jpeg::Ycc bl = pixel_ycc(rgb, P, row + 1, col), br = pixel_ycc(rgb, P, row + 1, col + 1);
    blocks[t] = block == 4 ? jpeg::mean4(tl.cb, tr.cb, bl.cb, br.cb) : jpeg::mean4(tl.cr, tr.cr, bl.cr, br.cr);
  }
  __syncthreads();
  double* own = blocks + block * 64;
  double* own_tmp = tmp + block * 64;
  own_tmp[e] = jpeg::dct_pass1(basis, own, r, c);
  __syncthreads();
  const double step = k.table[block < 4 ? 0 : 1][e] * factor;
  const double level = jpeg::quantise(jpeg::dct_pass2(basis, own_tmp, r, c), step);
  if (coef_y) {
    const float stored = valid ? static_cast<float>(level) : NAN;
    if (block < 4)
      coef_y[(b * P.luma_blocks + (mr * 2 + block / 2) * (P.wp / 8) + mc * 2 + block % 2) * 64 + e] = stored;
    else
      (block == 4 ? coef_cb : coef_cr)[(b * P.chroma_blocks + mr * P.mb_cols + mc) * 64 + e] = stored;
  }
  own[e] = level * step;
  __syncthreads();
  own_tmp[e] = jpeg::idct_pass1(basis, own, r, c);
  __syncthreads();
  own[e] = jpeg::idct_pass2(basis, own_tmp, r, c);
  __syncthreads();

  // Chroma upsampled by replication, back to RGB, clamped, /255.
  if (t < kPixels) {
    const int i = t / 16, j = t % 16;
    const int64_t row = row0 + i, col = col0 + j;
    if (row < P.h && col < P.w) {
      const double Y = blocks[(i / 8 * 2 + j / 8) * 64 + i % 8 * 8 + j % 8];
      const int ce = i / 2 * 8 + j / 2;
      const jpeg::Rgb out = jpeg::ycbcr_to_rgb(Y, blocks[4 * 64 + ce] - 128.0, blocks[5 * 64 + ce] - 128.0);
      const int64_t plane = P.h * P.w, o = b * 3 * plane + row * P.w + col;
      y[o] = valid ? static_cast<float>(jpeg::to_unit(out.r)) : NAN;
      y[o + plane] = valid ? static_cast<float>(jpeg::to_unit(out.g)) : NAN;
      y[o + 2 * plane] = valid ? static_cast<float>(jpeg::to_unit(out.b)) : NAN;
    }
  }
}

// ----------------------------------------------------------------------------
// Kernel launchers

Tensors diff_jpeg_cuda(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 2);
  const Tensor& x = in[0];
  const Tensor& quality = in[1];
  const jpeg::Geometry g = jpeg::geometry(op, x, quality);
  const bool need_coef = attrs.flag_or("need_coefficients", false);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor cy, ccb, ccr;
  if (need_coef) {
    cy = Tensor::empty({g.batch, g.luma_blocks, 8, 8}, x.dtype(), x.device());
    ccb = Tensor::empty({g.batch, g.chroma_blocks, 8, 8}, x.dtype(), x.device());
    ccr = Tensor::empty({g.batch, g.chroma_blocks, 8, 8}, x.dtype(), x.device());
  }
  const Problem P{g.h, g.w, g.wp, g.hp / 16, g.wp / 16, g.luma_blocks, g.chroma_blocks};
  const int64_t macroblocks = g.batch * P.mb_rows * P.mb_cols;
  if (macroblocks == 0) return {y, cy, ccb, ccr};
  KDSR_CHECK(macroblocks <= 0x7fffffff, op, "x ", shape_str(x.shape()), " has too many 16x16 macroblocks (", macroblocks, ") for one launch");
  CudaGuard guard(x.device());
  diff_jpeg_forward_kernel1<<<static_cast<unsigned int>(macroblocks), kThreads, 0, guard.stream()>>>(
      y.data<float>(), need_coef ? cy.data<float>() : nullptr, need_coef ? ccb.data<float>() : nullptr, need_coef ? ccr.data<float>() : nullptr,
      x.data<float>(), quality.data<float>(), jpeg::constants(), P);
  cudaCheckLaunch(op.c_str());
  return {y, cy, ccb, ccr};
}

KDSR_REGISTER_KERNEL("diff_jpeg", "cuda", "cuda", ({DType::F32}), diff_jpeg_cuda);

}  // namespace
}  // namespace kdsr
