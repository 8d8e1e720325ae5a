// conv2d and its backward on CUDA devices, through cuDNN (its own translation unit: cuDNN headers are
// slow to compile and nothing else needs them).
//
// Any stride and zero padding (conv2d_shape.h), cross-correlation (CUDNN_CROSS_CORRELATION). For each shape and
// direction the algorithm is chosen once by cuDNN's own benchmark (cudnnFind*AlgorithmEx), preferring
// deterministic algorithms, and cached with its workspace size; workspaces come from the caching
// allocator. Math follows setCudaMath: TF32 tensor cores ('tf32', the default) or FMA only ('fp32').
#include <cudnn.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "../../core/backend.h"
#include "../../cuda/cuda_common.h"
#include "conv2d_shape.h"

namespace kdsr {
namespace {

void cudnn_check(cudnnStatus_t status, const std::string& op, const char* file, int line) {
  if (status != CUDNN_STATUS_SUCCESS) {
    std::string message = concat("Error in ", op, ": cuDNN error ", cudnnGetErrorString(status), " at ", file, ":", line);
    if (status == CUDNN_STATUS_ALLOC_FAILED) throw OutOfMemory(message);
    throw Error(message);
  }
}
#define cudnnCheck(call, op) cudnn_check((call), op, __FILE__, __LINE__)

// One cuDNN handle per device, bound to the device's stream; calls on a device are serialised.
struct DeviceHandle {
  std::mutex mutex;
  cudnnHandle_t handle = nullptr;
};

DeviceHandle& device_handle(const CudaGuard& guard) {
  static std::mutex mutex;
  static auto* handles = new std::map<int, std::unique_ptr<DeviceHandle>>();  // kept until exit
  std::lock_guard<std::mutex> lock(mutex);
  auto& h = (*handles)[guard.device()];
  if (!h) {
    auto fresh = std::make_unique<DeviceHandle>();
    cudnnCheck(cudnnCreate(&fresh->handle), "conv2d");
    cudnnCheck(cudnnSetStream(fresh->handle, guard.stream()), "conv2d");
    h = std::move(fresh);
  }
  return *h;
}

struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc(int n, int c, int h, int w, const std::string& op) {
    cudnnCheck(cudnnCreateTensorDescriptor(&d), op);
    cudnnCheck(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w), op);
  }
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d); }
};

struct FilterDesc {
  cudnnFilterDescriptor_t d = nullptr;
  FilterDesc(int out, int in, int k, const std::string& op) {
    cudnnCheck(cudnnCreateFilterDescriptor(&d), op);
    cudnnCheck(cudnnSetFilter4dDescriptor(d, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, out, in, k, k), op);
  }
  ~FilterDesc() { cudnnDestroyFilterDescriptor(d); }
};

struct ConvDesc {
  cudnnConvolutionDescriptor_t d = nullptr;
  ConvDesc(int pad, int stride, cudnnMathType_t math, const std::string& op) {
    cudnnCheck(cudnnCreateConvolutionDescriptor(&d), op);
    cudnnCheck(cudnnSetConvolution2dDescriptor(d, pad, pad, stride, stride, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT), op);
    cudnnCheck(cudnnSetConvolutionMathType(d, math), op);
  }
  ~ConvDesc() { cudnnDestroyConvolutionDescriptor(d); }
};

// Everything the choice of algorithm depends on.
enum class Direction { Forward, BackwardData, BackwardFilter };
using ShapeKey = std::tuple<int, Direction, CudaMath, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>;

struct Choice {
  int algo;
  cudnnMathType_t math;
  size_t workspace;
};

std::mutex choices_mutex;
std::map<ShapeKey, Choice>& choices() {
  static auto* m = new std::map<ShapeKey, Choice>();
  return *m;
}

// The first successful result (cuDNN sorts them by time), deterministic ones first.
template <typename Perf>
Choice pick(const Perf* perf, int count, const std::string& op) {
  for (bool need_deterministic : {true, false})
    for (int i = 0; i < count; i++)
      if (perf[i].status == CUDNN_STATUS_SUCCESS && (!need_deterministic || perf[i].determinism == CUDNN_DETERMINISTIC))
        return Choice{static_cast<int>(perf[i].algo), perf[i].mathType, perf[i].memory};
  throw Error(concat("Error in ", op, ": cuDNN found no algorithm for this convolution"));
}

// Scratch memory for cuDNN's benchmark: as much as can be had up to 512 MiB (it bounds the algorithms tried).
Tensor benchmark_workspace(const Device& device) {
  for (int64_t bytes : {int64_t(512) << 20, int64_t(128) << 20, int64_t(32) << 20, int64_t(0)}) {
    try {
      return Tensor::empty({bytes / 4}, DType::F32, device);
    } catch (const OutOfMemory&) {
    }
  }
  return Tensor::empty({0}, DType::F32, device);
}

struct Conv {
  int B, Cin, H, W, Cout, k, stride, pad, OH, OW;
  explicit Conv(const Conv2dShape& s)
      : B(static_cast<int>(s.batch)), Cin(static_cast<int>(s.cin)), H(static_cast<int>(s.h)), W(static_cast<int>(s.w)), Cout(static_cast<int>(s.cout)),
        k(static_cast<int>(s.k)), stride(static_cast<int>(s.stride)), pad(static_cast<int>(s.pad)), OH(static_cast<int>(s.oh)), OW(static_cast<int>(s.ow)) {}
  ShapeKey key(int device, Direction dir) const { return ShapeKey{device, dir, cuda_math(), B, Cin, H, W, Cout, k, stride, pad}; }
};

// The cached choice for this shape and direction, benchmarking on the call's own buffers the first time.
template <typename Find>
Choice choose(const Conv& c, Direction dir, const CudaGuard& guard, const Device& device, Find&& find) {
  ShapeKey key = c.key(guard.device(), dir);
  {
    std::lock_guard<std::mutex> lock(choices_mutex);
    auto it = choices().find(key);
    if (it != choices().end()) return it->second;
  }
  Tensor workspace = benchmark_workspace(device);
  Choice choice = find(workspace.raw(), workspace.nbytes());
  std::lock_guard<std::mutex> lock(choices_mutex);
  choices()[key] = choice;
  return choice;
}

cudnnMathType_t requested_math() { return cuda_math() == CudaMath::TF32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH; }

Tensors conv2d_forward_cudnn(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  KDSR_CHECK(in.size() == 2 || in.size() == 3, op, "expected inputs (x, weight, bias?), got ", in.size());
  const Tensor& x = in[0];
  const Tensor& weight = in[1];
  const Tensor bias = in.size() == 3 ? in[2] : Tensor();
  Conv c(conv2d_shape(attrs, x, weight, bias));
  Tensor y = Tensor::empty({c.B, c.Cout, c.OH, c.OW}, DType::F32, x.device());
  if (y.numel() == 0) return {y};
  CudaGuard guard(x.device());
  DeviceHandle& h = device_handle(guard);
  std::lock_guard<std::mutex> lock(h.mutex);
  TensorDesc xd(c.B, c.Cin, c.H, c.W, op), yd(c.B, c.Cout, c.OH, c.OW, op);
  FilterDesc wd(c.Cout, c.Cin, c.k, op);
  ConvDesc cd(c.pad, c.stride, requested_math(), op);
  Choice choice = choose(c, Direction::Forward, guard, x.device(), [&](void* ws, size_t ws_bytes) {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int count = 0;
    cudnnCheck(cudnnFindConvolutionForwardAlgorithmEx(h.handle, xd.d, x.raw(), wd.d, weight.raw(), cd.d, yd.d, y.raw(), CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                      &count, perf, ws, ws_bytes),
               op);
    return pick(perf, count, op);
  });
  cudnnCheck(cudnnSetConvolutionMathType(cd.d, choice.math), op);
  Tensor workspace = Tensor::empty({static_cast<int64_t>((choice.workspace + 3) / 4)}, DType::F32, x.device());
  float one = 1.0f, zero = 0.0f;
  cudnnCheck(cudnnConvolutionForward(h.handle, &one, xd.d, x.raw(), wd.d, weight.raw(), cd.d, static_cast<cudnnConvolutionFwdAlgo_t>(choice.algo),
                                     workspace.raw(), choice.workspace, &zero, yd.d, y.raw()),
             op);
  if (bias.defined()) {
    TensorDesc bd(1, c.Cout, 1, 1, op);
    cudnnCheck(cudnnAddTensor(h.handle, &one, bd.d, bias.raw(), &one, yd.d, y.raw()), op);
  }
  return {y};
}

Tensors conv2d_backward_cudnn(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 3);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  const Tensor& weight = in[2];
  const Conv2dShape shape = conv2d_shape(attrs, x, weight);
  check_conv2d_dy(op, dy, shape, x.dtype());
  Conv c(shape);
  Tensor dx, dw, db;
  if (attrs.flag("need_input")) dx = Tensor::empty(x.shape(), DType::F32, x.device());
  if (attrs.flag("need_weight")) dw = Tensor::empty(weight.shape(), DType::F32, x.device());
  if (attrs.flag("need_bias")) db = Tensor::empty({c.Cout}, DType::F32, x.device());
  CudaGuard guard(x.device());
  if (dy.numel() == 0) {
    // Empty batch or image: the weight and bias gradients are sums over nothing.
    for (const Tensor* t : {&dw, &db})
      if (t->defined() && t->numel() > 0) cudaCheck(cudaMemsetAsync(t->raw(), 0, t->nbytes(), guard.stream()), op.c_str());
    return {dx, dw, db};
  }
  DeviceHandle& h = device_handle(guard);
  std::lock_guard<std::mutex> lock(h.mutex);
  TensorDesc xd(c.B, c.Cin, c.H, c.W, op), yd(c.B, c.Cout, c.OH, c.OW, op);
  FilterDesc wd(c.Cout, c.Cin, c.k, op);
  float one = 1.0f, zero = 0.0f;
  if (dx.defined()) {
    ConvDesc cd(c.pad, c.stride, requested_math(), op);
    Choice choice = choose(c, Direction::BackwardData, guard, x.device(), [&](void* ws, size_t ws_bytes) {
      cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
      int count = 0;
      cudnnCheck(cudnnFindConvolutionBackwardDataAlgorithmEx(h.handle, wd.d, weight.raw(), yd.d, dy.raw(), cd.d, xd.d, dx.raw(),
                                                             CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count, perf, ws, ws_bytes),
                 op);
      return pick(perf, count, op);
    });
    cudnnCheck(cudnnSetConvolutionMathType(cd.d, choice.math), op);
    Tensor workspace = Tensor::empty({static_cast<int64_t>((choice.workspace + 3) / 4)}, DType::F32, x.device());
    cudnnCheck(cudnnConvolutionBackwardData(h.handle, &one, wd.d, weight.raw(), yd.d, dy.raw(), cd.d, static_cast<cudnnConvolutionBwdDataAlgo_t>(choice.algo),
                                            workspace.raw(), choice.workspace, &zero, xd.d, dx.raw()),
               op);
  }
  if (dw.defined()) {
    ConvDesc cd(c.pad, c.stride, requested_math(), op);
    Choice choice = choose(c, Direction::BackwardFilter, guard, x.device(), [&](void* ws, size_t ws_bytes) {
      cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
      int count = 0;
      cudnnCheck(cudnnFindConvolutionBackwardFilterAlgorithmEx(h.handle, xd.d, x.raw(), yd.d, dy.raw(), cd.d, wd.d, dw.raw(),
                                                               CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &count, perf, ws, ws_bytes),
                 op);
      return pick(perf, count, op);
    });
    cudnnCheck(cudnnSetConvolutionMathType(cd.d, choice.math), op);
    Tensor workspace = Tensor::empty({static_cast<int64_t>((choice.workspace + 3) / 4)}, DType::F32, x.device());
    cudnnCheck(cudnnConvolutionBackwardFilter(h.handle, &one, xd.d, x.raw(), yd.d, dy.raw(), cd.d,
                                              static_cast<cudnnConvolutionBwdFilterAlgo_t>(choice.algo), workspace.raw(), choice.workspace, &zero, wd.d,
                                              dw.raw()),
               op);
  }
  if (db.defined()) {
    TensorDesc bd(1, c.Cout, 1, 1, op);
    cudnnCheck(cudnnConvolutionBackwardBias(h.handle, &one, yd.d, dy.raw(), &zero, bd.d, db.raw()), op);
  }
  return {dx, dw, db};
}

KDSR_REGISTER_KERNEL("conv2d", "cuda", "cuda", ({DType::F32}), conv2d_forward_cudnn);
KDSR_REGISTER_KERNEL("conv2d_backward", "cuda", "cuda", ({DType::F32}), conv2d_backward_cudnn);

}  // namespace
}  // namespace kdsr
