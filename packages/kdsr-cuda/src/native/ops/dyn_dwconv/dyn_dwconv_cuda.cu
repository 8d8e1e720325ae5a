// IDR-DDC, the dynamic depthwise convolution of KDSR, on CUDA devices, with LeakyReLU fused.
//
//   y[b,c,r,q] = act( sum_{u,v} k[b,c,u,v] * xpad[b,c, r+u-p, q+v-p] ),  p = k/2 (k odd),
//   xpad = x with zero or reflect padding (reflect: PyTorch's mode, the edge is not repeated, p < H, W),
//   act  = LeakyReLU(negative_slope) when a slope is given, else the identity.
//
// Every (sample, channel) plane has its own k x k kernel, so this is not a grouped convolution: the
// original code runs it as one (B*C groups) and pays for it; here each block loads an input tile with
// its halo into shared memory once and every thread computes a short column of outputs from it.
//
// Backward (g = dy * act'(y), the LeakyReLU mask read from the saved output y):
//   dx  = the adjoint of padding-then-correlation: a correlation of g with the flipped kernel over the
//         padded domain, folded back onto x (for reflect, a border pixel collects from up to 3 preimages
//         per dimension). Every preimage's g lies inside the tile's own halo, so one tile load suffices.
//   dk[b,c,u,v] = sum_{r,q} g[b,c,r,q] * xpad[b,c, r+u-p, q+v-p]: reduced per (b,c) in a fixed order
//         (per-thread sums, then a block tree reduction, then a sum over row bands), never with atomics,
//         so gradients are bitwise reproducible on a given GPU.
// The CPU kernel (dyn_dwconv_cpu.cc) is the reference; dev/cuda/dyn_dwconv.cu checks these kernels
// against a CPU loop and times them.
#include <cuda_runtime.h>

#include <algorithm>

#include "../../cuda/cuda_common.h"
#include "../../cuda/cuda_utils.cuh"
#include "../common/checks.h"

namespace kdsr {
namespace {

constexpr int kTileW = 32;               // output tile: 32 columns (one warp) ...
constexpr int kTileH = 32;               // ... by 32 rows,
constexpr int kThreadsY = 8;             // computed by 32 x 8 threads,
constexpr int kRows = kTileH / kThreadsY;  // each thread 4 rows of one column.
constexpr int kReduceThreads = 256;      // kernel-gradient blocks

struct Plane {
  int H, W, k, p;
  bool reflect;
};

// The source row/column of padded coordinate i (in [-p, n-1+p]); -1 for a zero-padding position.
__device__ __forceinline__ int source_index(int i, int n, bool reflect) {
  if (i >= 0 && i < n) return i;
  if (!reflect) return -1;
  return i < 0 ? -i : 2 * (n - 1) - i;
}

// g = dy * LeakyReLU'(pre-activation), read through the saved output: y > 0 exactly when the input was.
__device__ __forceinline__ float masked_grad(const float* dy, const float* y, float slope, bool has_slope, int64_t i) {
  float g = dy[i];
  return has_slope && !(y[i] > 0.0f) ? slope * g : g;
}

// Loads the (kTileH + 2p) x (kTileW + 2p) padded input tile whose top-left output is (r0, q0).
__device__ __forceinline__ void load_padded_tile(float* tile, const float* plane, const Plane& P, int r0, int q0, int tid, int nthreads) {
  int SW = kTileW + 2 * P.p, SH = kTileH + 2 * P.p;
  for (int i = tid; i < SH * SW; i += nthreads) {
    int sr = source_index(r0 - P.p + i / SW, P.H, P.reflect);
    int sq = source_index(q0 - P.p + i % SW, P.W, P.reflect);
    tile[i] = sr >= 0 && sq >= 0 ? plane[static_cast<int64_t>(sr) * P.W + sq] : 0.0f;
  }
}

// ----------------------------------------------------------------------------
// CUDA kernels

// grid (B*C * tiles), block (32, 8): block i computes tile i % tiles of plane i / tiles.
// Dynamic shared memory: the padded tile and the kernel.
__global__ void dyn_dwconv_forward_kernel1(float* y, const float* x, const float* kernels, Plane P, float slope, bool has_slope) {
  extern __shared__ float smem[];
  int SW = kTileW + 2 * P.p, SH = kTileH + 2 * P.p, kk = P.k * P.k;
  float* tile = smem;
  float* w = smem + SH * SW;
  int tiles_x = CEIL_DIV(P.W, kTileW), tiles = tiles_x * CEIL_DIV(P.H, kTileH);
  int64_t plane = blockIdx.x / tiles;
  int t = static_cast<int>(blockIdx.x % tiles);
  int r0 = t / tiles_x * kTileH, q0 = t % tiles_x * kTileW;
  int tid = threadIdx.y * kTileW + threadIdx.x, nthreads = kTileW * kThreadsY;
  const float* xp = x + plane * P.H * P.W;
  for (int i = tid; i < kk; i += nthreads) w[i] = kernels[plane * kk + i];
  load_padded_tile(tile, xp, P, r0, q0, tid, nthreads);
  __syncthreads();

  int tr = threadIdx.y * kRows, tc = threadIdx.x;
  float acc[kRows] = {};
  for (int u = 0; u < P.k; u++) {
    const float* row = tile + (tr + u) * SW + tc;
    for (int v = 0; v < P.k; v++) {
      float wv = w[u * P.k + v];
#pragma unroll
      for (int r = 0; r < kRows; r++) acc[r] += wv * row[r * SW + v];
    }
  }
  float* yp = y + plane * P.H * P.W;
#pragma unroll
  for (int r = 0; r < kRows; r++) {
    int R = r0 + tr + r, Q = q0 + tc;
    if (R < P.H && Q < P.W) {
      float out = acc[r];
      yp[static_cast<int64_t>(R) * P.W + Q] = has_slope && !(out > 0.0f) ? slope * out : out;
    }
  }
}

// The padded-domain gradient at padded position (Pr, Pq) from the g tile, skipping g outside the tile
// (which is outside the image, hence zero); used for the extra reflect preimages of border pixels.
__device__ float padded_grad_clipped(const float* gtile, const float* w, const Plane& P, int Pr, int Pq, int r0, int q0) {
  int SW = kTileW + 2 * P.p, SH = kTileH + 2 * P.p;
  int tr = Pr - r0 + 2 * P.p, tq = Pq - q0 + 2 * P.p;  // tile index of g at u = v = 0
  int u_lo = max(0, tr - SH + 1), u_hi = min(P.k - 1, tr);
  int v_lo = max(0, tq - SW + 1), v_hi = min(P.k - 1, tq);
  float sum = 0.0f;
  for (int u = u_lo; u <= u_hi; u++)
    for (int v = v_lo; v <= v_hi; v++) sum += w[u * P.k + v] * gtile[(tr - u) * SW + tq - v];
  return sum;
}

// dx. grid and block as the forward; shared memory: the g tile with its halo (zero outside the image),
// the kernel, and the kernel flipped (the primary preimage is a correlation with it, like the forward).
__global__ void dyn_dwconv_backward_input_kernel1(float* dx, const float* dy, const float* y, const float* kernels, Plane P, float slope,
                                                  bool has_slope) {
  extern __shared__ float smem[];
  int SW = kTileW + 2 * P.p, SH = kTileH + 2 * P.p, kk = P.k * P.k;
  float* gtile = smem;
  float* w = gtile + SH * SW;
  float* wflip = w + kk;
  int tiles_x = CEIL_DIV(P.W, kTileW), tiles = tiles_x * CEIL_DIV(P.H, kTileH);
  int64_t plane = blockIdx.x / tiles;
  int t = static_cast<int>(blockIdx.x % tiles);
  int64_t offset = plane * P.H * P.W;
  int r0 = t / tiles_x * kTileH, q0 = t % tiles_x * kTileW;
  int tid = threadIdx.y * kTileW + threadIdx.x, nthreads = kTileW * kThreadsY;
  for (int i = tid; i < kk; i += nthreads) {
    w[i] = kernels[plane * kk + i];
    wflip[i] = kernels[plane * kk + kk - 1 - i];
  }
  for (int i = tid; i < SH * SW; i += nthreads) {
    int gr = r0 - P.p + i / SW, gq = q0 - P.p + i % SW;
    gtile[i] = gr >= 0 && gr < P.H && gq >= 0 && gq < P.W ? masked_grad(dy, y, slope, has_slope, offset + static_cast<int64_t>(gr) * P.W + gq) : 0.0f;
  }
  __syncthreads();

  int tr = threadIdx.y * kRows, tc = threadIdx.x;
  float acc[kRows] = {};
  for (int u = 0; u < P.k; u++) {
    const float* row = gtile + (tr + u) * SW + tc;
    for (int v = 0; v < P.k; v++) {
      float wv = wflip[u * P.k + v];
#pragma unroll
      for (int r = 0; r < kRows; r++) acc[r] += wv * row[r * SW + v];
    }
  }
  int Q = q0 + tc;
  // Reflect padding: pixel i is also read through padded positions -i (i <= p) and 2(n-1)-i (i >= n-1-p).
  int cols[3] = {Q, 0, 0}, ncols = 1;
  if (P.reflect && Q < P.W) {
    if (Q >= 1 && Q <= P.p) cols[ncols++] = -Q;
    if (Q <= P.W - 2 && Q >= P.W - 1 - P.p) cols[ncols++] = 2 * (P.W - 1) - Q;
  }
#pragma unroll
  for (int r = 0; r < kRows; r++) {
    int R = r0 + tr + r;
    if (R >= P.H || Q >= P.W) continue;
    float out = acc[r];
    if (P.reflect) {
      int rows[3] = {R, 0, 0}, nrows = 1;
      if (R >= 1 && R <= P.p) rows[nrows++] = -R;
      if (R <= P.H - 2 && R >= P.H - 1 - P.p) rows[nrows++] = 2 * (P.H - 1) - R;
      for (int a = 0; a < nrows; a++)
        for (int b = 0; b < ncols; b++)
          if (a > 0 || b > 0) out += padded_grad_clipped(gtile, w, P, rows[a], cols[b], r0, q0);
    }
    dx[offset + static_cast<int64_t>(R) * P.W + Q] = out;
  }
}

// Loads the tile of g (no halo) for the kernel gradient: kTileH x kTileW, zero outside the image.
__device__ __forceinline__ void load_grad_tile(float* gtile, const float* dy, const float* y, float slope, bool has_slope, int64_t offset, const Plane& P,
                                               int r0, int q0) {
  for (int i = threadIdx.x; i < kTileH * kTileW; i += blockDim.x) {
    int R = r0 + i / kTileW, Q = q0 + i % kTileW;
    gtile[i] = R < P.H && Q < P.W ? masked_grad(dy, y, slope, has_slope, offset + static_cast<int64_t>(R) * P.W + Q) : 0.0f;
  }
}

// dk for small kernels (K <= 7). grid (B*C, bands), block 256. Block (plane, band) takes the tiles
// band, band + bands, ... of its plane; each thread keeps K*K running sums over the pixels it owns,
// then the block reduces them in a fixed tree order. partial[(plane * bands + band) * K*K + o].
template <int K>
__global__ void dyn_dwconv_backward_kernels_kernel1(float* partial, const float* dy, const float* x, const float* y, Plane P, float slope, bool has_slope) {
  extern __shared__ float smem[];
  constexpr int p = K / 2;
  constexpr int SW = kTileW + 2 * p, SH = kTileH + 2 * p;
  float* xtile = smem;
  float* gtile = xtile + SH * SW;
  __shared__ float scratch[32];
  int64_t plane = blockIdx.x;
  int64_t offset = plane * P.H * P.W;
  int tiles_x = CEIL_DIV(P.W, kTileW), tiles = tiles_x * CEIL_DIV(P.H, kTileH);
  float acc[K * K] = {};
  for (int t = blockIdx.y; t < tiles; t += gridDim.y) {
    int r0 = t / tiles_x * kTileH, q0 = t % tiles_x * kTileW;
    __syncthreads();  // the previous tile is no longer read
    load_padded_tile(xtile, x + offset, P, r0, q0, threadIdx.x, blockDim.x);
    load_grad_tile(gtile, dy, y, slope, has_slope, offset, P, r0, q0);
    __syncthreads();
    for (int i = threadIdx.x; i < kTileH * kTileW; i += blockDim.x) {
      int tr = i / kTileW, tc = i % kTileW;
      float g = gtile[i];
#pragma unroll
      for (int u = 0; u < K; u++)
#pragma unroll
        for (int v = 0; v < K; v++) acc[u * K + v] += g * xtile[(tr + u) * SW + tc + v];
    }
  }
  float* out = partial + (plane * gridDim.y + blockIdx.y) * (K * K);
#pragma unroll
  for (int o = 0; o < K * K; o++) {
    float s = block_sum(acc[o], scratch);
    if (threadIdx.x == 0) out[o] = s;
  }
}

// dk for any kernel size: thread j owns the outputs o = j, j + 256, ... and sums them over all tile
// pixels (g broadcast from shared memory, x read at consecutive offsets by consecutive threads).
// Running sums live in shared memory, one slot per output, each written by its owner only.
__global__ void dyn_dwconv_backward_kernels_kernel2(float* partial, const float* dy, const float* x, const float* y, Plane P, float slope, bool has_slope) {
  extern __shared__ float smem[];
  int SW = kTileW + 2 * P.p, SH = kTileH + 2 * P.p, kk = P.k * P.k;
  float* xtile = smem;
  float* gtile = xtile + SH * SW;
  float* sums = gtile + kTileH * kTileW;
  int64_t plane = blockIdx.x;
  int64_t offset = plane * P.H * P.W;
  int tiles_x = CEIL_DIV(P.W, kTileW), tiles = tiles_x * CEIL_DIV(P.H, kTileH);
  for (int o = threadIdx.x; o < kk; o += blockDim.x) sums[o] = 0.0f;
  for (int t = blockIdx.y; t < tiles; t += gridDim.y) {
    int r0 = t / tiles_x * kTileH, q0 = t % tiles_x * kTileW;
    __syncthreads();
    load_padded_tile(xtile, x + offset, P, r0, q0, threadIdx.x, blockDim.x);
    load_grad_tile(gtile, dy, y, slope, has_slope, offset, P, r0, q0);
    __syncthreads();
    int rows = min(kTileH, P.H - r0), cols = min(kTileW, P.W - q0);
    for (int o = threadIdx.x; o < kk; o += blockDim.x) {
      int u = o / P.k, v = o % P.k;
      float s = 0.0f;
      for (int tr = 0; tr < rows; tr++) {
        const float* xrow = xtile + (tr + u) * SW + v;
        const float* grow = gtile + tr * kTileW;
        for (int tc = 0; tc < cols; tc++) s += grow[tc] * xrow[tc];
      }
      sums[o] += s;
    }
  }
  float* out = partial + (plane * gridDim.y + blockIdx.y) * kk;
  for (int o = threadIdx.x; o < kk; o += blockDim.x) out[o] = sums[o];
}

// dk[plane, o] = sum over bands of partial[plane, band, o], in band order.
__global__ void dyn_dwconv_backward_kernels_reduce_kernel1(float* dk, const float* partial, int64_t planes, int bands, int kk) {
  int64_t n = planes * kk;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t plane = i / kk;
    int o = static_cast<int>(i % kk);
    const float* src = partial + plane * bands * kk + o;
    float s = 0.0f;
    for (int b = 0; b < bands; b++) s += src[static_cast<int64_t>(b) * kk];
    dk[i] = s;
  }
}

// ----------------------------------------------------------------------------
// Kernel launchers

struct Problem {
  int64_t planes;
  Plane P;
  bool has_slope;
  float slope;
};

Problem describe(const std::string& op, const Tensor& x, const Tensor& kernels, const Attrs& attrs) {
  check_rank(op, x, 4, "x");
  check_rank(op, kernels, 4, "kernels");
  int64_t k = kernels.dim(2);
  KDSR_CHECK(kernels.dim(0) == x.dim(0) && kernels.dim(1) == x.dim(1) && kernels.dim(3) == k, op, "kernels ", shape_str(kernels.shape()),
             " must be (B, C, k, k) for x ", shape_str(x.shape()));
  KDSR_CHECK(k % 2 == 1, op, "the kernel size must be odd, got ", k);
  const std::string& padding = attrs.string("padding");
  KDSR_CHECK(padding == "zero" || padding == "reflect", op, "padding must be 'zero' or 'reflect', got '", padding, "'");
  Problem pr;
  pr.planes = x.dim(0) * x.dim(1);
  pr.P = Plane{static_cast<int>(x.dim(2)), static_cast<int>(x.dim(3)), static_cast<int>(k), static_cast<int>(k / 2), padding == "reflect"};
  KDSR_CHECK(!pr.P.reflect || (pr.P.p < pr.P.H && pr.P.p < pr.P.W), op, "reflect padding needs k/2 < H and W, got k = ", k, " for ",
             shape_str(x.shape()));
  pr.has_slope = attrs.has("negative_slope");
  pr.slope = static_cast<float>(attrs.number_or("negative_slope", 0.0));
  return pr;
}

// Lets `kernel` use `bytes` of dynamic shared memory, or explains why the kernel size is too large.
template <typename Kernel>
void allow_shared_memory(Kernel kernel, size_t bytes, int device, const std::string& op, int k) {
  size_t limit = cuda_max_shared_memory(device);
  KDSR_CHECK(bytes <= limit, op, "kernel size ", k, " needs ", bytes / 1024, " KiB of shared memory per block; this GPU allows ", limit / 1024, " KiB");
  if (bytes > 48 * 1024) cudaCheck(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)), op.c_str());
}

// One block per output tile of every plane.
unsigned int tile_grid(const Problem& pr) {
  return static_cast<unsigned int>(pr.planes * CEIL_DIV(pr.P.W, kTileW) * CEIL_DIV(pr.P.H, kTileH));
}

size_t padded_tile_floats(const Plane& P) { return static_cast<size_t>(kTileH + 2 * P.p) * (kTileW + 2 * P.p); }

void dyn_dwconv_forward(float* y, const float* x, const float* kernels, const Problem& pr, const CudaGuard& guard, const std::string& op) {
  size_t smem = (padded_tile_floats(pr.P) + static_cast<size_t>(pr.P.k) * pr.P.k) * sizeof(float);
  allow_shared_memory(dyn_dwconv_forward_kernel1, smem, guard.device(), op, pr.P.k);
  dyn_dwconv_forward_kernel1<<<tile_grid(pr), dim3(kTileW, kThreadsY), smem, guard.stream()>>>(y, x, kernels, pr.P, pr.slope, pr.has_slope);
  cudaCheckLaunch(op.c_str());
}

void dyn_dwconv_backward_input(float* dx, const float* dy, const float* y, const float* kernels, const Problem& pr, const CudaGuard& guard,
                               const std::string& op) {
  size_t smem = (padded_tile_floats(pr.P) + 2 * static_cast<size_t>(pr.P.k) * pr.P.k) * sizeof(float);
  allow_shared_memory(dyn_dwconv_backward_input_kernel1, smem, guard.device(), op, pr.P.k);
  dyn_dwconv_backward_input_kernel1<<<tile_grid(pr), dim3(kTileW, kThreadsY), smem, guard.stream()>>>(dx, dy, y, kernels, pr.P, pr.slope, pr.has_slope);
  cudaCheckLaunch(op.c_str());
}

template <int K>
void launch_kernels_small(float* partial, const float* dy, const float* x, const float* y, const Problem& pr, dim3 grid, const CudaGuard& guard,
                          const std::string& op) {
  size_t smem = (padded_tile_floats(pr.P) + kTileH * kTileW) * sizeof(float);
  allow_shared_memory(dyn_dwconv_backward_kernels_kernel1<K>, smem, guard.device(), op, K);
  dyn_dwconv_backward_kernels_kernel1<K><<<grid, kReduceThreads, smem, guard.stream()>>>(partial, dy, x, y, pr.P, pr.slope, pr.has_slope);
  cudaCheckLaunch(op.c_str());
}

void dyn_dwconv_backward_kernels(float* dk, const float* dy, const float* x, const float* y, const Problem& pr, const Device& device, const CudaGuard& guard,
                                 const std::string& op) {
  // Enough row bands that the GPU has about two blocks per SM even for a small batch.
  int tiles = CEIL_DIV(pr.P.W, kTileW) * CEIL_DIV(pr.P.H, kTileH);
  int64_t wanted = CEIL_DIV(2 * static_cast<int64_t>(cuda_sm_count(guard.device())), pr.planes);
  int bands = static_cast<int>(std::min<int64_t>(tiles, std::max<int64_t>(1, wanted)));
  int kk = pr.P.k * pr.P.k;
  Tensor partial_storage;
  float* partial = dk;
  if (bands > 1) {
    partial_storage = Tensor::empty({pr.planes, bands, kk}, DType::F32, device);
    partial = partial_storage.data<float>();
  }
  dim3 grid(static_cast<unsigned int>(pr.planes), bands);
  switch (pr.P.k) {
    case 1: launch_kernels_small<1>(partial, dy, x, y, pr, grid, guard, op); break;
    case 3: launch_kernels_small<3>(partial, dy, x, y, pr, grid, guard, op); break;
    case 5: launch_kernels_small<5>(partial, dy, x, y, pr, grid, guard, op); break;
    case 7: launch_kernels_small<7>(partial, dy, x, y, pr, grid, guard, op); break;
    default: {
      size_t smem = (padded_tile_floats(pr.P) + kTileH * kTileW + static_cast<size_t>(kk)) * sizeof(float);
      allow_shared_memory(dyn_dwconv_backward_kernels_kernel2, smem, guard.device(), op, pr.P.k);
      dyn_dwconv_backward_kernels_kernel2<<<grid, kReduceThreads, smem, guard.stream()>>>(partial, dy, x, y, pr.P, pr.slope, pr.has_slope);
      cudaCheckLaunch(op.c_str());
    }
  }
  if (bands > 1) {
    constexpr int threads = 256;
    dyn_dwconv_backward_kernels_reduce_kernel1<<<elementwise_blocks(pr.planes * kk, threads, guard.device()), threads, 0, guard.stream()>>>(
        dk, partial, pr.planes, bands, kk);
    cudaCheckLaunch(op.c_str());
  }
}

Tensors dyn_dwconv_forward_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 2);
  const Tensor& x = in[0];
  const Tensor& kernels = in[1];
  Problem pr = describe(attrs.op(), x, kernels, attrs);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.numel() == 0) return {y};
  CudaGuard guard(x.device());
  dyn_dwconv_forward(y.data<float>(), x.data<float>(), kernels.data<float>(), pr, guard, attrs.op());
  return {y};
}

Tensors dyn_dwconv_backward_cuda(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  KDSR_CHECK(in.size() == 3 || in.size() == 4, op, "expected inputs (dy, x, kernels, y?), got ", in.size());
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  const Tensor& kernels = in[2];
  Problem pr = describe(op, x, kernels, attrs);
  check_same_shape(op, dy, x, "dy", "x");
  const Tensor y = in.size() == 4 ? in[3] : Tensor();
  KDSR_CHECK(!pr.has_slope || y.defined(), op, "y (the forward output) is required with negative_slope, for the LeakyReLU mask");
  if (y.defined()) check_same_shape(op, y, x, "y", "x");
  const float* yp = pr.has_slope ? y.data<float>() : nullptr;
  Tensor dx, dk;
  bool need_input = attrs.flag("need_input"), need_kernels = attrs.flag("need_kernels");
  if (need_input) dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (need_kernels) dk = Tensor::empty(kernels.shape(), kernels.dtype(), kernels.device());
  if (x.numel() == 0 || (!need_input && !need_kernels)) {
    if (dk.defined() && dk.numel() > 0) {
      CudaGuard guard(x.device());
      cudaCheck(cudaMemsetAsync(dk.raw(), 0, dk.nbytes(), guard.stream()), op.c_str());
    }
    return {dx, dk};
  }
  CudaGuard guard(x.device());
  if (need_input) dyn_dwconv_backward_input(dx.data<float>(), dy.data<float>(), yp, kernels.data<float>(), pr, guard, op);
  if (need_kernels) dyn_dwconv_backward_kernels(dk.data<float>(), dy.data<float>(), x.data<float>(), yp, pr, x.device(), guard, op);
  return {dx, dk};
}

KDSR_REGISTER_KERNEL("dyn_dwconv", "cuda", "cuda", ({DType::F32}), dyn_dwconv_forward_cuda);
KDSR_REGISTER_KERNEL("dyn_dwconv_backward", "cuda", "cuda", ({DType::F32}), dyn_dwconv_backward_cuda);

}  // namespace
}  // namespace kdsr
