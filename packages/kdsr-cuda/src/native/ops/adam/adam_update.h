// adam_update as the CPU and CUDA kernels share it: the attributes, the checks on the four tensor
// lists, and the per-element step (PyTorch's torch.optim.Adam / AdamW). For each element, with
// t = step (counted from 1):
//   decoupled (AdamW): p *= 1 - lr * wd,  g' = g;   otherwise (Adam, L2): g' = g + wd * p
//   m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2
//   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// Scalars are computed in double; the element updates run in the parameter's dtype.
#pragma once
#include <cmath>
#include <set>

#include "../common/checks.h"
#include "../common/host_device.h"

namespace kdsr {

// The step's constants in T.
template <typename T>
struct AdamStep {
  T b1, b2, wd, eps, step_size, bc2_sqrt, shrink;
  bool decoupled;

  KDSR_HOST_DEVICE void apply(T& p, T g, T& m, T& v) const {
    using std::sqrt;
    T param = p, grad = g;
    if (decoupled) {
      param *= shrink;
    } else {
      grad += wd * param;
    }
    const T m_new = b1 * m + (1 - b1) * grad;
    const T v_new = b2 * v + (1 - b2) * grad * grad;
    m = m_new;
    v = v_new;
    p = param - step_size * m_new / (sqrt(v_new) / bc2_sqrt + eps);
  }

  // The constants rounded to U (each computed in double and rounded once).
  template <typename U>
  AdamStep<U> to() const {
    return {static_cast<U>(b1), static_cast<U>(b2), static_cast<U>(wd), static_cast<U>(eps), static_cast<U>(step_size), static_cast<U>(bc2_sqrt),
            static_cast<U>(shrink), decoupled};
  }
};

// The attributes, checked, as the step's constants in double.
inline AdamStep<double> adam_step(const Attrs& attrs) {
  const std::string& op = attrs.op();
  const double lr = attrs.number("lr"), beta1 = attrs.number("beta1"), beta2 = attrs.number("beta2"), eps = attrs.number("eps");
  const double weight_decay = attrs.number("weight_decay");
  const int64_t step = attrs.integer("step");
  KDSR_CHECK(step >= 1, op, "step counts from 1, got ", step);
  KDSR_CHECK(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, op, "beta1 and beta2 must be in [0, 1), got ", beta1, " and ", beta2);
  KDSR_CHECK(lr >= 0 && eps >= 0 && weight_decay >= 0, op, "lr, eps and weight_decay must not be negative");
  const double t = static_cast<double>(step);
  return {beta1, beta2, weight_decay, eps, lr / (1 - std::pow(beta1, t)), std::sqrt(1 - std::pow(beta2, t)), 1 - lr * weight_decay, attrs.flag("decoupled")};
}

// n for inputs that are 4 lists of n tensors (params, grads, exp_avg, exp_avg_sq). Each tensor must
// match its param in shape, dtype and device, and no updated tensor may share memory with another
// (their updates would mix); empty tensors hold no memory.
inline size_t check_adam_tensors(const Tensors& in, const std::string& op) {
  KDSR_CHECK(in.size() % 4 == 0, op, "expected 4 lists of n tensors (params, grads, exp_avg, exp_avg_sq), got ", in.size(), " inputs");
  const size_t n = in.size() / 4;
  std::set<const void*> written;
  for (size_t k = 0; k < n; k++) {
    const Tensor& p = in[k];
    const char* names[4] = {"param", "grad", "exp_avg", "exp_avg_sq"};
    for (size_t list = 0; list < 4; list++) {
      const Tensor& t = in[list * n + k];
      KDSR_CHECK(t.defined(), op, names[list], " ", k, " is missing");
      KDSR_CHECK(t.shape() == p.shape() && t.dtype() == p.dtype() && t.device() == p.device(), op, names[list], " ", k, " ", shape_str(t.shape()), " ",
                 dtype_name(t.dtype()), " on ", t.device().str(), " does not match param ", k, " ", shape_str(p.shape()), " ", dtype_name(p.dtype()), " on ",
                 p.device().str());
      if (list != 1 && t.numel() > 0) KDSR_CHECK(written.insert(t.raw()).second, op, names[list], " ", k, " shares memory with another updated tensor");
    }
  }
  return n;
}

}  // namespace kdsr
