// Cheap invariant checks shared by kernels. The TS wrappers validate user input first with
// friendlier messages; these keep the native side safe when called directly.
#pragma once
#include "../../core/registry.h"

namespace kdsr {

inline void check_rank(const std::string& op, const Tensor& t, int rank, const char* name) {
  KDSR_CHECK(t.defined(), op, name, " is required");
  KDSR_CHECK(t.rank() == rank, op, name, " must have rank ", rank, ", got shape ", shape_str(t.shape()));
}

inline void check_same_shape(const std::string& op, const Tensor& a, const Tensor& b, const char* a_name, const char* b_name) {
  KDSR_CHECK(a.shape() == b.shape(), op, a_name, " ", shape_str(a.shape()), " and ", b_name, " ", shape_str(b.shape()), " must have the same shape");
  KDSR_CHECK(a.dtype() == b.dtype(), op, a_name, " and ", b_name, " must have the same dtype");
}

inline void check_inputs(const std::string& op, const Tensors& inputs, size_t count) {
  KDSR_CHECK(inputs.size() == count, op, "expected ", count, " inputs, got ", inputs.size());
}

}  // namespace kdsr
