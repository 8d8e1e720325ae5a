// resize_separable on CUDA devices (see resize_separable_cpu.cc): y[p] = mh · x[p] · mwᵀ for every
// plane p, in two passes like the CPU: rows, tmp[p,i,c] = sum_j mh[i,j] x[p,j,c], then columns,
// y[p,i,k] = sum_j mw[k,j] tmp[p,i,j], each sum over the nonzero span of its matrix row only (the
// matrices are banded: a 4x bicubic shrink reads 16 of every row's columns). The spans are found on
// the device, one thread per matrix row, so nothing waits for the host. Every output value is the
// CPU's formula (separable_map.h), so the two agree to float rounding (the GPU may fuse a * b + c).
#include "../../cuda/cuda_utils.cuh"
#include "separable_map.h"

namespace kdsr {
namespace {

using separable::Span;

// ----------------------------------------------------------------------------
// CUDA kernels

// spans[r] = the nonzero span of row r of m (rows x cols); one thread per row.
__global__ void resize_separable_spans_kernel1(Span* spans, const float* m, int64_t rows, int64_t cols) {
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < rows; r += static_cast<int64_t>(gridDim.x) * blockDim.x)
    spans[r] = separable::row_span(m + r * cols, cols);
}

// The row pass: tmp (planes, oh, w); one thread per value, c fastest, so a warp reads x coalesced and
// shares its mh entries.
__global__ void resize_separable_forward_kernel1(float* tmp, const float* x, const float* mh, const Span* hs, int64_t planes, int64_t h, int64_t w,
                                                 int64_t oh) {
  const int64_t total = planes * oh * w;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total; t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t c = t % w, i = (t / w) % oh, p = t / (w * oh);
    tmp[t] = separable::span_dot(mh + i * h, x + p * h * w + c, w, hs[i]);
  }
}

// The column pass: y (planes, oh, ow); one thread per value, k fastest (neighbouring threads read
// overlapping stretches of the same tmp row).
__global__ void resize_separable_forward_kernel2(float* y, const float* tmp, const float* mw, const Span* ws, int64_t rows, int64_t w, int64_t ow) {
  const int64_t total = rows * ow;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total; t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t k = t % ow, row = t / ow;
    y[t] = separable::span_dot(mw + k * w, tmp + row * w, 1, ws[k]);
  }
}

// ----------------------------------------------------------------------------
// Kernel launchers

constexpr int kThreads = 256;

void find_spans(Span* spans, const float* m, int64_t rows, int64_t cols, const CudaGuard& guard, const std::string& op) {
  if (rows == 0) return;
  resize_separable_spans_kernel1<<<elementwise_blocks(rows, kThreads, guard.device()), kThreads, 0, guard.stream()>>>(spans, m, rows, cols);
  cudaCheckLaunch(op.c_str());
}

Tensors resize_separable_cuda(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 3);
  const Tensor& x = in[0];
  const Tensor& mh = in[1];
  const Tensor& mw = in[2];
  const separable::Geometry g = separable::geometry(op, x, mh, mw);
  Tensor y = Tensor::empty(g.output, x.dtype(), x.device());
  if (y.numel() == 0) return {y};
  CudaGuard guard(x.device());
  // Scratch from the caching allocator (released blocks are reused only by later work on this stream):
  // the spans of mh's and mw's rows (a Span is two int64, the size of two float64), and the row pass.
  static_assert(sizeof(Span) == 2 * sizeof(double), "a Span is stored as two float64");
  Tensor span_storage = Tensor::empty({g.oh + g.ow, 2}, DType::F64, x.device());
  Span* hs = static_cast<Span*>(span_storage.raw());
  Span* ws = hs + g.oh;
  find_spans(hs, mh.data<float>(), g.oh, g.h, guard, op);
  find_spans(ws, mw.data<float>(), g.ow, g.w, guard, op);
  Tensor tmp = Tensor::empty({g.planes, g.oh, g.w}, DType::F32, x.device());
  if (tmp.numel() > 0) {
    resize_separable_forward_kernel1<<<elementwise_blocks(tmp.numel(), kThreads, guard.device()), kThreads, 0, guard.stream()>>>(
        tmp.data<float>(), x.data<float>(), mh.data<float>(), hs, g.planes, g.h, g.w, g.oh);
    cudaCheckLaunch(op.c_str());
  }
  resize_separable_forward_kernel2<<<elementwise_blocks(y.numel(), kThreads, guard.device()), kThreads, 0, guard.stream()>>>(
      y.data<float>(), tmp.data<float>(), mw.data<float>(), ws, g.planes * g.oh, g.w, g.ow);
  cudaCheckLaunch(op.c_str());
  return {y};
}

KDSR_REGISTER_KERNEL("resize_separable", "cuda", "cuda", ({DType::F32}), resize_separable_cuda);

}  // namespace
}  // namespace kdsr
