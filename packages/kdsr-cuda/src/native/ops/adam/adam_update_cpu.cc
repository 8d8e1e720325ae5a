// One fused Adam / AdamW step over n parameters, in place (PyTorch's torch.optim.Adam / AdamW
// semantics). Inputs are params[0..n), grads[0..n), exp_avg[0..n), exp_avg_sq[0..n); for each
// element, with t = step (counted from 1):
//   decoupled (AdamW): p *= 1 - lr * wd,  g' = g;   otherwise (Adam, L2): g' = g + wd * p
//   m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2
//   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// Scalars are computed in double; the element updates run in the parameter's dtype.
#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "../../core/parallel.h"
#include "../common/checks.h"

namespace kdsr {
namespace {

Tensors adam_update(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  KDSR_CHECK(in.size() % 4 == 0, op, "expected 4 lists of n tensors (params, grads, exp_avg, exp_avg_sq), got ", in.size(), " inputs");
  const size_t n = in.size() / 4;
  const double lr = attrs.number("lr"), beta1 = attrs.number("beta1"), beta2 = attrs.number("beta2"), eps = attrs.number("eps");
  const double weight_decay = attrs.number("weight_decay");
  const bool decoupled = attrs.flag("decoupled");
  const int64_t step = attrs.integer("step");
  KDSR_CHECK(step >= 1, op, "step counts from 1, got ", step);
  KDSR_CHECK(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, op, "beta1 and beta2 must be in [0, 1), got ", beta1, " and ", beta2);
  KDSR_CHECK(lr >= 0 && eps >= 0 && weight_decay >= 0, op, "lr, eps and weight_decay must not be negative");

  std::set<const void*> written;  // in-place tensors must not share memory, or updates would mix
  for (size_t k = 0; k < n; k++) {
    const Tensor& p = in[k];
    const char* names[4] = {"param", "grad", "exp_avg", "exp_avg_sq"};
    for (size_t list = 0; list < 4; list++) {
      const Tensor& t = in[list * n + k];
      KDSR_CHECK(t.defined(), op, names[list], " ", k, " is missing");
      KDSR_CHECK(t.shape() == p.shape() && t.dtype() == p.dtype(), op, names[list], " ", k, " ", shape_str(t.shape()), " ", dtype_name(t.dtype()),
                 " does not match param ", k, " ", shape_str(p.shape()), " ", dtype_name(p.dtype()));
      // Empty tensors hold no memory (their data pointer is null) and so share none.
      if (list != 1 && t.numel() > 0) KDSR_CHECK(written.insert(t.raw()).second, op, names[list], " ", k, " shares memory with another updated tensor");
    }
  }

  const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bias_correction2_sqrt = std::sqrt(1 - std::pow(beta2, static_cast<double>(step)));
  // One parallel region for the whole list (a region per tensor costs more than updating a small
  // one): [0, total) is the tensors' elements one after another, start[k] where tensor k begins.
  std::vector<int64_t> start(n + 1, 0);
  for (size_t k = 0; k < n; k++) start[k + 1] = start[k] + in[k].numel();
  parallel_for_range(start[n], [&](int64_t begin, int64_t end) {
    for (size_t k = std::upper_bound(start.begin(), start.end(), begin) - start.begin() - 1; k < n && start[k] < end; k++) {
      const int64_t lo = std::max(begin, start[k]) - start[k], hi = std::min(end, start[k + 1]) - start[k];
      dispatch_dtype(in[k].dtype(), [&](auto zero) {
        using T = decltype(zero);
        T* p = in[k].data<T>();
        const T* g = in[n + k].data<T>();
        T* m = in[2 * n + k].data<T>();
        T* v = in[3 * n + k].data<T>();
        const T b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2), wd = static_cast<T>(weight_decay), e = static_cast<T>(eps);
        const T step_size = static_cast<T>(lr / bias_correction1), bc2_sqrt = static_cast<T>(bias_correction2_sqrt);
        const T shrink = static_cast<T>(1 - lr * weight_decay);
        for (int64_t i = lo; i < hi; i++) {
          T grad = g[i];
          if (decoupled) {
            p[i] *= shrink;
          } else {
            grad += wd * p[i];
          }
          m[i] = b1 * m[i] + (1 - b1) * grad;
          v[i] = b2 * v[i] + (1 - b2) * grad * grad;
          p[i] -= step_size * m[i] / (std::sqrt(v[i]) / bc2_sqrt + e);
        }
      });
    }
  });
  return {};
}

KDSR_REGISTER_KERNEL("adam_update", "cpu", "reference", ({DType::F32, DType::F64}), adam_update);

}  // namespace
}  // namespace kdsr
