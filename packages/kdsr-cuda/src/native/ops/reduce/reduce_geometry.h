// How the reductions (reduce_sum, reduce_mean, reduce_max) and their backward kernels see their
// tensors, shared by the CPU and CUDA kernels: x is viewed as (outer, n, inner) with n the reduced
// extent, the dimension `dim` (removed from the shape; a rank-1 input gives shape [1]), or every
// element when `dim` is absent (shape [1]).
#pragma once
#include <cmath>

#include "../common/checks.h"
#include "../common/host_device.h"

namespace kdsr {

struct ReduceGeometry {
  int64_t outer = 1, n = 1, inner = 1;
  Shape out_shape;
};

// How `shape` is reduced under the optional attribute `dim` (negative counts from the end).
inline ReduceGeometry reduce_geometry(const Attrs& attrs, const Shape& shape) {
  ReduceGeometry g;
  if (!attrs.has("dim")) {
    g.n = shape_numel(shape);
    g.out_shape = {1};
  } else {
    const int64_t rank = static_cast<int64_t>(shape.size());
    int64_t dim = attrs.integer("dim");
    KDSR_CHECK(dim >= -rank && dim < rank, attrs.op(), "dim ", dim, " is out of range for shape ", shape_str(shape));
    if (dim < 0) dim += rank;
    for (int64_t d = 0; d < rank; d++) {
      if (d < dim) g.outer *= shape[d];
      if (d > dim) g.inner *= shape[d];
      if (d != dim) g.out_shape.push_back(shape[d]);
    }
    g.n = shape[dim];
    if (g.out_shape.empty()) g.out_shape = {1};
  }
  KDSR_CHECK(g.n >= 1, attrs.op(), "cannot reduce an empty extent of shape ", shape_str(shape));
  return g;
}

// reduce_backward: the attribute `shape` (dx's shape), checked, and dy against its reduced shape.
inline Shape reduce_backward_shape(const Attrs& attrs, const Tensor& dy) {
  KDSR_CHECK(dy.defined(), attrs.op(), "dy is required");
  const Shape shape = attrs.integers("shape");
  for (int64_t d : shape) KDSR_CHECK(d >= 0, attrs.op(), "shape ", shape_str(shape), " has a negative dimension");
  const ReduceGeometry g = reduce_geometry(attrs, shape);
  KDSR_CHECK(dy.shape() == g.out_shape, attrs.op(), "dy ", shape_str(dy.shape()), " must have the reduced shape ", shape_str(g.out_shape));
  return shape;
}

// reduce_max_backward: x's geometry, with y (the maximum) and dy checked against it.
inline ReduceGeometry reduce_max_backward_geometry(const Attrs& attrs, const Tensor& dy, const Tensor& x, const Tensor& y) {
  KDSR_CHECK(dy.defined() && x.defined() && y.defined(), attrs.op(), "dy, x and y are required");
  ReduceGeometry g = reduce_geometry(attrs, x.shape());
  KDSR_CHECK(y.shape() == g.out_shape, attrs.op(), "y ", shape_str(y.shape()), " must have the reduced shape ", shape_str(g.out_shape));
  check_same_shape(attrs.op(), dy, y, "dy", "y");
  KDSR_CHECK(x.dtype() == y.dtype(), attrs.op(), "x and y must have the same dtype");
  return g;
}

// reduce_max_backward routes dy to the first x equal to the maximum y (a NaN maximum matches a NaN).
template <typename T>
KDSR_HOST_DEVICE bool is_maximum(T x, T y) {
  using std::isnan;
  return x == y || (isnan(x) && isnan(y));
}

// reduce_backward's value: alpha * dy (1 for sums, 1/n for means), formed in double.
template <typename T>
KDSR_HOST_DEVICE T reduce_grad(T dy, double alpha) {
  return static_cast<T>(alpha * static_cast<double>(dy));
}

}  // namespace kdsr
