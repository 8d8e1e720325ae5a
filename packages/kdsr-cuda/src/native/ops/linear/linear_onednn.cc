// linear forward and backward with oneDNN matmul (and a sum reduction for the bias), float32.
// Transposes are expressed as strides of the descriptors, so no data is copied. Every primitive is
// built and run for one thread: oneDNN's GEMM splits the summed dimension over threads for some
// shapes (the weight gradient's batch dimension on AVX2), which makes the bits depend on the
// thread count, and KDSR's linear layers (batch x 4C) are too small to gain from threads.
#include <cstring>

#include "../common/onednn_context.h"
#include "linear_shape.h"

namespace kdsr {
namespace {

namespace dn = onednn;

struct Matmul {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul primitive;
};

struct Reduction {
  dnnl::reduction::primitive_desc pd;
  dnnl::reduction primitive;
};

dn::PrimitiveCache<Matmul> matmul_cache;
dn::PrimitiveCache<Reduction> reduction_cache;

// dst (m,n) = src (m,k) x weights (k,n) [+ bias (1,n)], each operand in the given layout
// (ab: row-major as stored, ba: the transpose of a row-major tensor).
std::shared_ptr<const Matmul> matmul(const char* kind, int64_t m, int64_t k, int64_t n, dn::tag src, dn::tag weights, bool bias) {
  return matmul_cache.get(dn::key(kind, {m, k, n, bias}), [&] {
    const dnnl::memory::desc src_md = dn::desc({m, k}, src), weights_md = dn::desc({k, n}, weights), dst_md = dn::desc({m, n}, dn::tag::ab);
#if KDSR_ONEDNN_V3
    dnnl::matmul::primitive_desc pd = bias ? dnnl::matmul::primitive_desc(dn::engine(), src_md, weights_md, dn::desc({1, n}, dn::tag::ab), dst_md, dn::attributes())
                                           : dnnl::matmul::primitive_desc(dn::engine(), src_md, weights_md, dst_md, dn::attributes());
#else
    dnnl::matmul::desc desc = bias ? dnnl::matmul::desc(src_md, weights_md, dn::desc({1, n}, dn::tag::ab), dst_md) : dnnl::matmul::desc(src_md, weights_md, dst_md);
    dnnl::matmul::primitive_desc pd(desc, dn::attributes(), dn::engine());
#endif
    return Matmul{pd, dnnl::matmul(pd)};
  });
}

void run_matmul(const Matmul& mm, const Tensor& src, const Tensor& weights, const Tensor& bias, const Tensor& dst) {
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, dn::wrap(src, mm.pd.src_desc())},
                                             {DNNL_ARG_WEIGHTS, dn::wrap(weights, mm.pd.weights_desc())},
                                             {DNNL_ARG_DST, dn::wrap(dst, mm.pd.dst_desc())}};
  if (bias.defined()) args.emplace(DNNL_ARG_BIAS, dn::wrap(bias, mm.pd.bias_desc()));
  dn::Workspace().execute(mm.primitive, std::move(args), mm.pd.scratchpad_desc());
}

// y (N,out) = x (N,in) x weight^T (in,out) + bias
Tensors linear_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 3);
  const Tensor& x = in[0];
  const Tensor& weight = in[1];
  const Tensor& bias = in[2];
  const LinearShape s = linear_shape(attrs.op(), x, weight, bias);
  dn::SingleThreaded one_thread;
  Tensor y = Tensor::empty({s.n, s.out}, x.dtype(), x.device());
  run_matmul(*matmul("linear", s.n, s.in, s.out, dn::tag::ab, dn::tag::ba, bias.defined()), x, weight, bias, y);
  return {y};
}

// dx (N,in) = dy (N,out) x weight (out,in);  dweight (out,in) = dy^T (out,N) x x (N,in);  dbias = sum_n dy[n,:]
Tensors linear_backward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 3);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  const Tensor& weight = in[2];
  const LinearShape s = linear_shape(op, x, weight);
  check_linear_dy(op, dy, s, x.dtype());
  dn::SingleThreaded one_thread;
  Tensor dx, dweight, dbias;
  if (attrs.flag("need_input")) {
    dx = Tensor::empty(x.shape(), x.dtype(), x.device());
    run_matmul(*matmul("linear_backward_data", s.n, s.out, s.in, dn::tag::ab, dn::tag::ab, false), dy, weight, Tensor(), dx);
  }
  if (attrs.flag("need_weight")) {
    dweight = Tensor::empty(weight.shape(), x.dtype(), x.device());
    run_matmul(*matmul("linear_backward_weights", s.out, s.n, s.in, dn::tag::ba, dn::tag::ab, false), dy, x, Tensor(), dweight);
  }
  if (attrs.flag("need_bias") && s.n == 1) {
    // oneDNN rejects a reduction that reduces nothing; the sum over one row is that row.
    dbias = Tensor::empty({s.out}, x.dtype(), x.device());
    std::memcpy(dbias.raw(), dy.raw(), dbias.nbytes());
  } else if (attrs.flag("need_bias")) {
    dbias = Tensor::empty({s.out}, x.dtype(), x.device());
    auto sum = reduction_cache.get(dn::key("linear_backward_bias", {s.n, s.out}), [&] {
      const dnnl::memory::desc src_md = dn::desc({s.n, s.out}, dn::tag::ab), dst_md = dn::desc({1, s.out}, dn::tag::ab);
#if KDSR_ONEDNN_V3
      dnnl::reduction::primitive_desc pd(dn::engine(), dnnl::algorithm::reduction_sum, src_md, dst_md, 0.f, 0.f, dn::attributes());
#else
      dnnl::reduction::primitive_desc pd(dnnl::reduction::desc(dnnl::algorithm::reduction_sum, src_md, dst_md, 0.f, 0.f), dn::attributes(), dn::engine());
#endif
      return Reduction{pd, dnnl::reduction(pd)};
    });
    dn::Workspace().execute(sum->primitive, {{DNNL_ARG_SRC, dn::wrap(dy, sum->pd.src_desc())}, {DNNL_ARG_DST, dn::wrap(dbias, sum->pd.dst_desc())}},
                sum->pd.scratchpad_desc());
  }
  return {dx, dweight, dbias};
}

KDSR_REGISTER_KERNEL("linear", "cpu", "onednn", ({DType::F32}), [](const Tensors& in, const Attrs& attrs) {
  return dn::guarded(attrs.op(), [&] { return linear_forward(in, attrs); });
});
KDSR_REGISTER_KERNEL("linear_backward", "cpu", "onednn", ({DType::F32}), [](const Tensors& in, const Attrs& attrs) {
  return dn::guarded(attrs.op(), [&] { return linear_backward(in, attrs); });
});

}  // namespace
}  // namespace kdsr
