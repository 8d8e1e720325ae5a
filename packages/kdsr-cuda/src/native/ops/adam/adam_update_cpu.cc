// One fused Adam / AdamW step over n parameters, in place, on the CPU (the formula and checks are in
// adam_update.h, shared with the CUDA kernel).
#include <algorithm>
#include <vector>

#include "../../core/parallel.h"
#include "adam_update.h"

namespace kdsr {
namespace {

Tensors adam_update(const Tensors& in, const Attrs& attrs) {
  const size_t n = check_adam_tensors(in, attrs.op());
  const AdamStep<double> constants = adam_step(attrs);
  // One parallel region for the whole list (a region per tensor costs more than updating a small
  // one): [0, total) is the tensors' elements one after another, start[k] where tensor k begins.
  std::vector<int64_t> start(n + 1, 0);
  for (size_t k = 0; k < n; k++) start[k + 1] = start[k] + in[k].numel();
  parallel_for_range(start[n], [&](int64_t begin, int64_t end) {
    for (size_t k = std::upper_bound(start.begin(), start.end(), begin) - start.begin() - 1; k < n && start[k] < end; k++) {
      const int64_t lo = std::max(begin, start[k]) - start[k], hi = std::min(end, start[k + 1]) - start[k];
      dispatch_dtype(in[k].dtype(), [&](auto zero) {
        using T = decltype(zero);
        const AdamStep<T> step = constants.to<T>();
        T* p = in[k].data<T>();
        const T* g = in[n + k].data<T>();
        T* m = in[2 * n + k].data<T>();
        T* v = in[3 * n + k].data<T>();
        for (int64_t i = lo; i < hi; i++) step.apply(p[i], g[i], m[i], v[i]);
      });
    }
  });
  return {};
}

KDSR_REGISTER_KERNEL("adam_update", "cpu", "reference", ({DType::F32, DType::F64}), adam_update);

}  // namespace
}  // namespace kdsr
