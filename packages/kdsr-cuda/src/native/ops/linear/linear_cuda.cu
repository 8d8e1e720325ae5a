// linear (y = x W^T + b) and its backward on CUDA devices: the products through cuBLAS, the bias
// broadcast and the bias gradient (a column sum in a fixed order) as small kernels of ours.
//
// cuBLAS is column-major: a row-major (r, c) matrix is its column-major (c, r) transpose, so
//   y^T (out, N) = W (out, in) . x^T (in, N)       -> gemm(T, N, out, N, in,  W, x)
//   dx^T (in, N) = W^T (in, out) . dy^T (out, N)   -> gemm(N, N, in,  N, out, W, dy)
//   dW^T (in, out) = x^T (in, N) . dy (N, out)     -> gemm(N, T, in, out, N,  x, dy)
#include <cublas_v2.h>

#include <map>
#include <memory>
#include <mutex>

#include "../../core/backend.h"
#include "../../cuda/cuda_common.h"
#include "../common/checks.h"

namespace kdsr {
namespace {

void cublas_check(cublasStatus_t status, const std::string& op, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    std::string message = concat("Error in ", op, ": cuBLAS error ", cublasGetStatusName(status), " (", cublasGetStatusString(status), ") at ", file, ":", line);
    if (status == CUBLAS_STATUS_ALLOC_FAILED) throw OutOfMemory(message);
    throw Error(message);
  }
}
#define cublasCheck(call, op) cublas_check((call), op, __FILE__, __LINE__)

// ----------------------------------------------------------------------------
// CUDA kernels

// y[n, o] = bias[o], before a gemm with beta = 1 adds x W^T.
__global__ void linear_bias_broadcast_kernel1(float* y, const float* bias, int64_t rows, int cols) {
  int64_t total = rows * cols;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = bias[i % cols];
}

// dbias[o] = sum_n dy[n, o]: one thread per column, rows in order (coalesced across the warp).
__global__ void linear_backward_bias_kernel1(float* dbias, const float* dy, int64_t rows, int cols) {
  int o = blockIdx.x * blockDim.x + threadIdx.x;
  if (o >= cols) return;
  float s = 0.0f;
  for (int64_t n = 0; n < rows; n++) s += dy[n * cols + o];
  dbias[o] = s;
}

// ----------------------------------------------------------------------------
// Kernel launchers

constexpr size_t kCublasWorkspace = 32 << 20;  // what NVIDIA recommends for Hopper

// One cuBLAS handle per device, on the device's stream, with a workspace from the caching allocator.
struct DeviceHandle {
  std::mutex mutex;
  cublasHandle_t handle = nullptr;
  Tensor workspace;
};

DeviceHandle& device_handle(const CudaGuard& guard, const Device& device) {
  static std::mutex mutex;
  static auto* handles = new std::map<int, std::unique_ptr<DeviceHandle>>();  // kept until exit
  std::lock_guard<std::mutex> lock(mutex);
  auto& h = (*handles)[guard.device()];
  if (!h) {
    auto fresh = std::make_unique<DeviceHandle>();
    cublasCheck(cublasCreate(&fresh->handle), "linear");
    cublasCheck(cublasSetStream(fresh->handle, guard.stream()), "linear");
    fresh->workspace = Tensor::empty({static_cast<int64_t>(kCublasWorkspace / 4)}, DType::F32, device);
    cublasCheck(cublasSetWorkspace(fresh->handle, fresh->workspace.raw(), kCublasWorkspace), "linear");
    h = std::move(fresh);
  }
  return *h;
}

void set_math(cublasHandle_t handle, const std::string& op) {
  cublasCheck(cublasSetMathMode(handle, cuda_math() == CudaMath::TF32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH), op);
}

void check_linear(const std::string& op, const Tensor& x, const Tensor& weight) {
  check_rank(op, x, 2, "x");
  check_rank(op, weight, 2, "weight");
  KDSR_CHECK(weight.dim(1) == x.dim(1), op, "weight ", shape_str(weight.shape()), " must be (out, ", x.dim(1), ") for x ", shape_str(x.shape()));
}

Tensors linear_forward_cuda(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  KDSR_CHECK(in.size() == 2 || in.size() == 3, op, "expected inputs (x, weight, bias?), got ", in.size());
  const Tensor& x = in[0];
  const Tensor& weight = in[1];
  const Tensor bias = in.size() == 3 ? in[2] : Tensor();
  check_linear(op, x, weight);
  int64_t N = x.dim(0), K = x.dim(1), O = weight.dim(0);
  if (bias.defined()) KDSR_CHECK(bias.rank() == 1 && bias.dim(0) == O, op, "bias must have shape [", O, "], got ", shape_str(bias.shape()));
  Tensor y = Tensor::empty({N, O}, DType::F32, x.device());
  if (y.numel() == 0) return {y};
  CudaGuard guard(x.device());
  float beta = 0.0f;
  if (bias.defined()) {
    constexpr int threads = 256;
    linear_bias_broadcast_kernel1<<<elementwise_blocks(N * O, threads, guard.device()), threads, 0, guard.stream()>>>(y.data<float>(), bias.data<float>(), N,
                                                                                                                   static_cast<int>(O));
    cudaCheckLaunch(op.c_str());
    beta = 1.0f;
  } else if (K == 0) {
    cudaCheck(cudaMemsetAsync(y.raw(), 0, y.nbytes(), guard.stream()), op.c_str());
    return {y};
  }
  if (K == 0) return {y};
  DeviceHandle& h = device_handle(guard, x.device());
  std::lock_guard<std::mutex> lock(h.mutex);
  set_math(h.handle, op);
  float one = 1.0f;
  cublasCheck(cublasSgemm(h.handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(O), static_cast<int>(N), static_cast<int>(K), &one, weight.data<float>(),
                          static_cast<int>(K), x.data<float>(), static_cast<int>(K), &beta, y.data<float>(), static_cast<int>(O)),
              op);
  return {y};
}

Tensors linear_backward_cuda(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 3);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  const Tensor& weight = in[2];
  check_linear(op, x, weight);
  int64_t N = x.dim(0), K = x.dim(1), O = weight.dim(0);
  KDSR_CHECK(dy.shape() == Shape({N, O}), op, "dy ", shape_str(dy.shape()), " must be [", N, ",", O, "]");
  Tensor dx, dw, db;
  if (attrs.flag("need_input")) dx = Tensor::empty(x.shape(), DType::F32, x.device());
  if (attrs.flag("need_weight")) dw = Tensor::empty(weight.shape(), DType::F32, x.device());
  if (attrs.flag("need_bias")) db = Tensor::empty({O}, DType::F32, x.device());
  CudaGuard guard(x.device());
  float one = 1.0f, zero = 0.0f;
  if (N == 0 || O == 0) {
    // A product over an empty dimension: zeros.
    for (const Tensor* t : {&dx, &dw, &db})
      if (t->defined() && t->numel() > 0) cudaCheck(cudaMemsetAsync(t->raw(), 0, t->nbytes(), guard.stream()), op.c_str());
    return {dx, dw, db};
  }
  if ((dx.defined() && dx.numel() > 0) || (dw.defined() && dw.numel() > 0)) {
    DeviceHandle& h = device_handle(guard, x.device());
    std::lock_guard<std::mutex> lock(h.mutex);
    set_math(h.handle, op);
    if (dx.defined() && dx.numel() > 0)
      cublasCheck(cublasSgemm(h.handle, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(K), static_cast<int>(N), static_cast<int>(O), &one, weight.data<float>(),
                              static_cast<int>(K), dy.data<float>(), static_cast<int>(O), &zero, dx.data<float>(), static_cast<int>(K)),
                  op);
    if (dw.defined() && dw.numel() > 0)
      cublasCheck(cublasSgemm(h.handle, CUBLAS_OP_N, CUBLAS_OP_T, static_cast<int>(K), static_cast<int>(O), static_cast<int>(N), &one, x.data<float>(),
                              static_cast<int>(K), dy.data<float>(), static_cast<int>(O), &zero, dw.data<float>(), static_cast<int>(K)),
                  op);
  }
  if (db.defined()) {
    constexpr int threads = 256;
    linear_backward_bias_kernel1<<<CEIL_DIV(O, threads), threads, 0, guard.stream()>>>(db.data<float>(), dy.data<float>(), N, static_cast<int>(O));
    cudaCheckLaunch(op.c_str());
  }
  return {dx, dw, db};
}

KDSR_REGISTER_KERNEL("linear", "cuda", "cuda", ({DType::F32}), linear_forward_cuda);
KDSR_REGISTER_KERNEL("linear_backward", "cuda", "cuda", ({DType::F32}), linear_backward_cuda);

}  // namespace
}  // namespace kdsr
