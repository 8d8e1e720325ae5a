// linear forward and backward, reference CPU kernels (float32 and float64): the oracle for the
// oneDNN kernels and the fallback where oneDNN is absent. Each output element or row is computed
// by one thread in a fixed order, so results do not depend on the thread count.
#include "../../core/parallel.h"
#include "linear_shape.h"

namespace kdsr {
namespace {

// y[n,o] = bias[o] + sum_i x[n,i] * weight[o,i]
Tensors linear_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 3);
  const Tensor& x = in[0];
  const Tensor& weight = in[1];
  const Tensor& bias = in[2];
  const LinearShape s = linear_shape(attrs.op(), x, weight, bias);
  Tensor y = Tensor::empty({s.n, s.out}, x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* xp = x.data<T>();
    const T* wp = weight.data<T>();
    const T* bp = bias.defined() ? bias.data<T>() : nullptr;
    T* yp = y.data<T>();
    parallel_for(s.n * s.out, [&](int64_t no) {
      const T* xr = xp + (no / s.out) * s.in;
      const T* wr = wp + (no % s.out) * s.in;
      T sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t i = 0; i < s.in; i++) sum += xr[i] * wr[i];
      yp[no] = bp ? sum + bp[no % s.out] : sum;
    }, grain_for(s.in));
  });
  return {y};
}

// out[r,:] = sum_j a[j*a_stride + r*a_step] * b[j,:] for r in rows: a weighted sum of b's rows.
template <typename T>
void weighted_rows(const T* a, int64_t a_stride, int64_t a_step, const T* b, int64_t terms, int64_t width, T* out, int64_t rows) {
  parallel_for(rows, [&](int64_t r) {
    T* o = out + r * width;
    for (int64_t i = 0; i < width; i++) o[i] = 0;
    for (int64_t j = 0; j < terms; j++) {
      const T c = a[j * a_stride + r * a_step];
      const T* br = b + j * width;
#pragma omp simd
      for (int64_t i = 0; i < width; i++) o[i] += c * br[i];
    }
  }, grain_for(terms * width));
}

// dx[n,:] = sum_o dy[n,o] weight[o,:];  dweight[o,:] = sum_n dy[n,o] x[n,:];  dbias[o] = sum_n dy[n,o]
Tensors linear_backward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 3);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  const Tensor& weight = in[2];
  const LinearShape s = linear_shape(op, x, weight);
  check_linear_dy(op, dy, s, x.dtype());
  Tensor dx = attrs.flag("need_input") ? Tensor::empty(x.shape(), x.dtype(), x.device()) : Tensor();
  Tensor dweight = attrs.flag("need_weight") ? Tensor::empty(weight.shape(), x.dtype(), x.device()) : Tensor();
  Tensor dbias = attrs.flag("need_bias") ? Tensor::empty({s.out}, x.dtype(), x.device()) : Tensor();
  dispatch_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* dyp = dy.data<T>();
    if (dx.defined()) weighted_rows(dyp, 1, s.out, weight.data<T>(), s.out, s.in, dx.data<T>(), s.n);
    if (dweight.defined()) weighted_rows(dyp, s.out, 1, x.data<T>(), s.n, s.in, dweight.data<T>(), s.out);
    if (dbias.defined()) {
      T* dbp = dbias.data<T>();
      parallel_for(s.out, [&](int64_t o) {
        T sum = 0;
        for (int64_t n = 0; n < s.n; n++) sum += dyp[n * s.out + o];
        dbp[o] = sum;
      }, grain_for(s.n));
    }
  });
  return {dx, dweight, dbias};
}

KDSR_REGISTER_KERNEL("linear", "cpu", "reference", ({DType::F32, DType::F64}), linear_forward);
KDSR_REGISTER_KERNEL("linear_backward", "cpu", "reference", ({DType::F32, DType::F64}), linear_backward);

}  // namespace
}  // namespace kdsr
