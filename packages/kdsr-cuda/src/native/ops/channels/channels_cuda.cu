// Channel concatenation and slicing on CUDA devices (see channels_cpu.cc). Each is one strided copy
// per call (cudaMemcpy2DAsync: one row per sample, rows of whole channel planes), queued on the stream.
#include "../../cuda/cuda_common.h"
#include "../common/checks.h"

namespace kdsr {
namespace {

// For every sample b: channels [src_start, src_start + count) of src into [dst_start, ...) of dst.
void copy_channels(const Tensor& dst, int64_t dst_start, const Tensor& src, int64_t src_start, int64_t count, const CudaGuard& guard, const std::string& op) {
  const size_t plane = static_cast<size_t>(src.dim(2) * src.dim(3)) * sizeof(float);
  const int64_t batch = src.dim(0);
  if (count == 0 || plane == 0 || batch == 0) return;
  char* to = static_cast<char*>(dst.raw()) + dst_start * plane;
  const char* from = static_cast<const char*>(src.raw()) + src_start * plane;
  cudaCheck(cudaMemcpy2DAsync(to, dst.dim(1) * plane, from, src.dim(1) * plane, count * plane, batch, cudaMemcpyDeviceToDevice, guard.stream()),
            op.c_str());
}

Tensors concat_channels_cuda(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 2);
  const Tensor& a = in[0];
  const Tensor& b = in[1];
  check_rank(op, a, 4, "a");
  check_rank(op, b, 4, "b");
  KDSR_CHECK(a.dim(0) == b.dim(0) && a.dim(2) == b.dim(2) && a.dim(3) == b.dim(3), op, "a ", shape_str(a.shape()), " and b ", shape_str(b.shape()),
             " must agree in batch, height and width");
  Tensor y = Tensor::empty({a.dim(0), a.dim(1) + b.dim(1), a.dim(2), a.dim(3)}, a.dtype(), a.device());
  CudaGuard guard(a.device());
  copy_channels(y, 0, a, 0, a.dim(1), guard, op);
  copy_channels(y, a.dim(1), b, 0, b.dim(1), guard, op);
  return {y};
}

Tensors slice_channels_cuda(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 1);
  const Tensor& x = in[0];
  check_rank(op, x, 4, "x");
  int64_t start = attrs.integer("start"), length = attrs.integer("length");
  KDSR_CHECK(start >= 0 && length >= 1 && start + length <= x.dim(1), op, "channels [", start, ", ", start + length, ") are not within the ", x.dim(1),
             " channels of x");
  Tensor y = Tensor::empty({x.dim(0), length, x.dim(2), x.dim(3)}, x.dtype(), x.device());
  CudaGuard guard(x.device());
  copy_channels(y, 0, x, start, length, guard, op);
  return {y};
}

Tensors slice_channels_backward_cuda(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 1);
  const Tensor& dy = in[0];
  check_rank(op, dy, 4, "dy");
  int64_t start = attrs.integer("start"), channels = attrs.integer("channels");
  KDSR_CHECK(start >= 0 && start + dy.dim(1) <= channels, op, "channels [", start, ", ", start + dy.dim(1), ") of dy do not fit in ", channels,
             " channels");
  Tensor dx = Tensor::empty({dy.dim(0), channels, dy.dim(2), dy.dim(3)}, dy.dtype(), dy.device());
  CudaGuard guard(dy.device());
  if (dx.numel() > 0) cudaCheck(cudaMemsetAsync(dx.raw(), 0, dx.nbytes(), guard.stream()), op.c_str());
  copy_channels(dx, start, dy, 0, dy.dim(1), guard, op);
  return {dx};
}

KDSR_REGISTER_KERNEL("concat_channels", "cuda", "cuda", ({DType::F32}), concat_channels_cuda);
KDSR_REGISTER_KERNEL("slice_channels", "cuda", "cuda", ({DType::F32}), slice_channels_cuda);
KDSR_REGISTER_KERNEL("slice_channels_backward", "cuda", "cuda", ({DType::F32}), slice_channels_backward_cuda);

}  // namespace
}  // namespace kdsr
