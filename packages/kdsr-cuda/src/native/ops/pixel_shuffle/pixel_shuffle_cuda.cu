// pixel_shuffle and pixel_unshuffle on CUDA devices (see pixel_shuffle_cpu.cc):
//   shuffle:   y[b, c, Y*r + i, X*r + j] = x[b, c*r*r + i*r + j, Y, X]
//   unshuffle: the inverse. One thread per output element (writes coalesced, reads strided by r).
#include "../../cuda/cuda_utils.cuh"
#include "../common/checks.h"

namespace kdsr {
namespace {

int64_t factor_of(const Attrs& attrs) {
  int64_t r = attrs.integer("factor");
  KDSR_CHECK(r >= 1, attrs.op(), "factor must be a positive integer, got ", r);
  return r;
}

Tensors pixel_shuffle_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  const int64_t r = factor_of(attrs);
  check_rank(attrs.op(), x, 4, "x");
  KDSR_CHECK(x.dim(1) % (r * r) == 0, attrs.op(), "the channels of x ", shape_str(x.shape()), " must be a multiple of factor^2 = ", r * r);
  const int64_t C = x.dim(1) / (r * r), H = x.dim(2), W = x.dim(3), OH = H * r, OW = W * r;
  Tensor y = Tensor::empty({x.dim(0), C, OH, OW}, x.dtype(), x.device());
  CudaGuard guard(x.device());
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  launch_elementwise(y.numel(), guard, attrs.op(), [=] __device__(int64_t o) {
    int64_t ox = o % OW, oy = (o / OW) % OH, bc = o / (OW * OH);  // bc = b * C + c
    int64_t b = bc / C, c = bc % C, i = oy % r, j = ox % r;
    yp[o] = xp[((b * C * r * r + c * r * r + i * r + j) * H + oy / r) * W + ox / r];
  });
  return {y};
}

Tensors pixel_unshuffle_cuda(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 1);
  const Tensor& x = in[0];
  const int64_t r = factor_of(attrs);
  check_rank(attrs.op(), x, 4, "x");
  KDSR_CHECK(x.dim(2) % r == 0 && x.dim(3) % r == 0, attrs.op(), "the height and width of x ", shape_str(x.shape()), " must be multiples of factor ", r);
  const int64_t C = x.dim(1), H = x.dim(2), W = x.dim(3), OC = C * r * r, OH = H / r, OW = W / r;
  Tensor y = Tensor::empty({x.dim(0), OC, OH, OW}, x.dtype(), x.device());
  CudaGuard guard(x.device());
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  launch_elementwise(y.numel(), guard, attrs.op(), [=] __device__(int64_t o) {
    int64_t X = o % OW, Y = (o / OW) % OH, boc = o / (OW * OH);  // boc = b * OC + oc
    int64_t b = boc / OC, oc = boc % OC, c = oc / (r * r), i = (oc / r) % r, j = oc % r;
    yp[o] = xp[((b * C + c) * H + Y * r + i) * W + X * r + j];
  });
  return {y};
}

KDSR_REGISTER_KERNEL("pixel_shuffle", "cuda", "cuda", ({DType::F32}), pixel_shuffle_cuda);
KDSR_REGISTER_KERNEL("pixel_unshuffle", "cuda", "cuda", ({DType::F32}), pixel_unshuffle_cuda);

}  // namespace
}  // namespace kdsr
