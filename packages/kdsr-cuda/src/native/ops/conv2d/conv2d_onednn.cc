// conv2d forward and backward (data, weights + bias) with oneDNN, float32; any stride and zero padding.
//
// Layouts. Every primitive lets oneDNN choose its layouts (format `any`: blocked nChw16c /
// OIhw16i16o on AVX-512, nChw8c on AVX2, plain where it prefers), and our NCHW / OIHW operands are
// reordered into them and the result back, with reorder primitives built once per shape. Plain
// layouts make oneDNN 2.6 fall back to im2col + GEMM, slower in every training shape measured on
// both AVX-512 and AVX2 (packages/kdsr-cuda/BENCHMARKS.md, "oneDNN layouts").
//
// Algorithm. oneDNN 2.x has Winograd F(4x4, 3x3) kernels for float32 on AVX-512 cores; in every
// KDSR training shape measured they are 1.5-2.6x faster than direct convolution, forward and both
// backwards (relative error about 2e-6 against 3e-7), except with a 3-channel input (the head),
// where direct is faster. So 3x3 stride-1 convolutions with at least 16 input channels use
// Winograd where oneDNN offers it for the call, direct convolution elsewhere (AVX2, oneDNN 3.x,
// strides, other kernels): a choice fixed by the machine and the shape, never by timing, so a run
// resumed on the same machine repeats the same arithmetic.
//
// Thread-count independence. Forward and backward-data primitives write each output element from
// one thread (checked by test/threads.test.ts). oneDNN's backward-weights primitive sums the
// weight gradient over the batch in per-thread partial sums, so its bits depend on the thread
// count; here it runs once per sample, built for one thread, samples spread over the threads,
// and the per-sample gradients are added in sample order.
#include <exception>

#include "../../core/parallel.h"
#include "../common/onednn_context.h"
#include "conv2d_shape.h"

namespace kdsr {
namespace {

namespace dn = onednn;
using dnnl::algorithm;
using dnnl::prop_kind;

struct ConvDescs {
  algorithm alg;
  dnnl::memory::desc src, weights, bias, dst;
  dn::dims strides, padding_l, padding_r;
};

// oneDNN's right/bottom padding: what makes (h + pad + pad_r - k) / stride + 1 == oh exactly (floor mode
// drops the rows a stride skips, so pad_r may be smaller than pad).
dn::dims padding_r(const Conv2dShape& s) { return {(s.oh - 1) * s.stride + s.k - s.h - s.pad, (s.ow - 1) * s.stride + s.k - s.w - s.pad}; }

// Descriptors for `batch` samples (the call's batch, or 1 for the per-sample weight gradient).
ConvDescs conv_descs(const Conv2dShape& s, int64_t batch, algorithm alg) {
  const dn::tag layout = dn::tag::any;
  return ConvDescs{alg,
                   dn::desc({batch, s.cin, s.h, s.w}, layout),
                   dn::desc({s.cout, s.cin, s.k, s.k}, layout),
                   dn::desc({s.cout}, dn::tag::x),
                   dn::desc({batch, s.cout, s.oh, s.ow}, layout),
                   {s.stride, s.stride},
                   {s.pad, s.pad},
                   padding_r(s)};
}

// Our layouts of the operands.
dnnl::memory::desc x_plain(const Conv2dShape& s, int64_t batch) { return dn::desc({batch, s.cin, s.h, s.w}, dn::tag::nchw); }
dnnl::memory::desc y_plain(const Conv2dShape& s, int64_t batch) { return dn::desc({batch, s.cout, s.oh, s.ow}, dn::tag::nchw); }
dnnl::memory::desc w_plain(const Conv2dShape& s) { return dn::desc({s.cout, s.cin, s.k, s.k}, dn::tag::oihw); }

// The primitive descriptors, in the API of oneDNN 2.x (operation descriptor first) or 3.x.
dnnl::convolution_forward::primitive_desc forward_pd(const ConvDescs& d, bool bias) {
#if KDSR_ONEDNN_V3
  return bias ? dnnl::convolution_forward::primitive_desc(dn::engine(), prop_kind::forward_training, d.alg, d.src, d.weights,
                                                          d.bias, d.dst, d.strides, d.padding_l, d.padding_r, dn::attributes())
              : dnnl::convolution_forward::primitive_desc(dn::engine(), prop_kind::forward_training, d.alg, d.src, d.weights,
                                                          d.dst, d.strides, d.padding_l, d.padding_r, dn::attributes());
#else
  dnnl::convolution_forward::desc desc =
      bias ? dnnl::convolution_forward::desc(prop_kind::forward_training, d.alg, d.src, d.weights, d.bias, d.dst, d.strides,
                                             d.padding_l, d.padding_r)
           : dnnl::convolution_forward::desc(prop_kind::forward_training, d.alg, d.src, d.weights, d.dst, d.strides,
                                             d.padding_l, d.padding_r);
  return dnnl::convolution_forward::primitive_desc(desc, dn::attributes(), dn::engine());
#endif
}

dnnl::convolution_backward_data::primitive_desc backward_data_pd(const ConvDescs& d) {
#if KDSR_ONEDNN_V3
  return dnnl::convolution_backward_data::primitive_desc(dn::engine(), d.alg, d.src, d.weights, d.dst, d.strides, d.padding_l,
                                                         d.padding_r, forward_pd(d, false), dn::attributes());
#else
  dnnl::convolution_backward_data::desc desc(d.alg, d.src, d.weights, d.dst, d.strides, d.padding_l, d.padding_r);
  return dnnl::convolution_backward_data::primitive_desc(desc, dn::attributes(), dn::engine(), forward_pd(d, false));
#endif
}

dnnl::convolution_backward_weights::primitive_desc backward_weights_pd(const ConvDescs& d, bool bias) {
#if KDSR_ONEDNN_V3
  return bias ? dnnl::convolution_backward_weights::primitive_desc(dn::engine(), d.alg, d.src, d.weights, d.bias, d.dst,
                                                                   d.strides, d.padding_l, d.padding_r, forward_pd(d, true), dn::attributes())
              : dnnl::convolution_backward_weights::primitive_desc(dn::engine(), d.alg, d.src, d.weights, d.dst, d.strides,
                                                                   d.padding_l, d.padding_r, forward_pd(d, false), dn::attributes());
#else
  dnnl::convolution_backward_weights::desc desc =
      bias ? dnnl::convolution_backward_weights::desc(d.alg, d.src, d.weights, d.bias, d.dst, d.strides, d.padding_l,
                                                      d.padding_r)
           : dnnl::convolution_backward_weights::desc(d.alg, d.src, d.weights, d.dst, d.strides, d.padding_l, d.padding_r);
  return dnnl::convolution_backward_weights::primitive_desc(desc, dn::attributes(), dn::engine(), forward_pd(d, bias));
#endif
}

// make(descriptors) with Winograd where the rule at the top allows it and oneDNN has a kernel for
// the call, else with direct convolution.
template <typename Make>
auto with_algorithm(const Conv2dShape& s, int64_t batch, Make&& make) -> decltype(make(conv_descs(s, batch, algorithm::convolution_direct))) {
  if (s.k == 3 && s.stride == 1 && s.cin >= 16) {
    try {
      return make(conv_descs(s, batch, algorithm::convolution_winograd));
    } catch (const dnnl::error&) {
      // No Winograd kernel for this call on this machine.
    }
  }
  return make(conv_descs(s, batch, algorithm::convolution_direct));
}

// A cached primitive with the conversions of its operands from our layouts (and of its output back).
struct Forward {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward primitive;
  dn::Reorder src, weights, dst_back;
};

struct BackwardData {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data primitive;
  dn::Reorder diff_dst, weights, diff_src_back;
};

// For one sample, built for one thread.
struct BackwardWeights {
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights primitive;
  dn::Reorder src, diff_dst, diff_weights_back;
};

dn::PrimitiveCache<Forward> forward_cache;
dn::PrimitiveCache<BackwardData> backward_data_cache;
dn::PrimitiveCache<BackwardWeights> backward_weights_cache;

std::string shape_key(const char* kind, const Conv2dShape& s, bool flag) { return dn::key(kind, {s.batch, s.cin, s.cout, s.h, s.w, s.k, s.stride, s.pad, flag}); }

Tensors conv2d_forward(const Tensors& in, const Attrs& attrs) {
  check_inputs(attrs.op(), in, 3);
  const Tensor& x = in[0];
  const Tensor& weight = in[1];
  const Tensor& bias = in[2];
  const Conv2dShape s = conv2d_shape(attrs, x, weight, bias);
  const bool has_bias = bias.defined();
  auto conv = forward_cache.get(shape_key("conv2d", s, has_bias), [&] {
    auto pd = with_algorithm(s, s.batch, [&](const ConvDescs& d) { return forward_pd(d, has_bias); });
    return Forward{pd, dnnl::convolution_forward(pd), dn::Reorder(x_plain(s, s.batch), pd.src_desc()), dn::Reorder(w_plain(s), pd.weights_desc()),
                   dn::Reorder(pd.dst_desc(), y_plain(s, s.batch))};
  });
  dn::Workspace ws;
  Tensor y = Tensor::empty({s.batch, s.cout, s.oh, s.ow}, x.dtype(), x.device());
  dnnl::memory y_user = dn::wrap(y, y_plain(s, s.batch));
  dnnl::memory y_mem = ws.output_for(y_user, conv->dst_back);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, ws.in_layout(dn::wrap(x, x_plain(s, s.batch)), conv->src)},
                                             {DNNL_ARG_WEIGHTS, ws.in_layout(dn::wrap(weight, w_plain(s)), conv->weights)},
                                             {DNNL_ARG_DST, y_mem}};
  if (has_bias) args.emplace(DNNL_ARG_BIAS, dn::wrap(bias, dn::desc({s.cout}, dn::tag::x)));
  ws.execute(conv->primitive, std::move(args), conv->pd.scratchpad_desc());
  ws.copy_back(y_mem, y_user, conv->dst_back);
  return {y};
}

Tensor backward_data(const Tensor& dy, const Tensor& x, const Tensor& weight, const Conv2dShape& s) {
  auto conv = backward_data_cache.get(shape_key("conv2d_backward_data", s, false), [&] {
    auto pd = with_algorithm(s, s.batch, [](const ConvDescs& d) { return backward_data_pd(d); });
    return BackwardData{pd, dnnl::convolution_backward_data(pd), dn::Reorder(y_plain(s, s.batch), pd.diff_dst_desc()),
                        dn::Reorder(w_plain(s), pd.weights_desc()), dn::Reorder(pd.diff_src_desc(), x_plain(s, s.batch))};
  });
  dn::Workspace ws;
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  dnnl::memory dx_user = dn::wrap(dx, x_plain(s, s.batch));
  dnnl::memory dx_mem = ws.output_for(dx_user, conv->diff_src_back);
  ws.execute(conv->primitive,
             {{DNNL_ARG_DIFF_DST, ws.in_layout(dn::wrap(dy, y_plain(s, s.batch)), conv->diff_dst)},
              {DNNL_ARG_WEIGHTS, ws.in_layout(dn::wrap(weight, w_plain(s)), conv->weights)},
              {DNNL_ARG_DIFF_SRC, dx_mem}},
             conv->pd.scratchpad_desc());
  ws.copy_back(dx_mem, dx_user, conv->diff_src_back);
  return dx;
}

// The weight and bias gradients, per sample (see the top of the file). Each thread gets its own
// buffers for the converted operands, the blocked gradient and the scratchpad, allocated before the
// parallel region; sample b's gradients land in row b of `partials`, summed in order at the end.
void backward_weights(const Tensor& dy, const Tensor& x, const Conv2dShape& s, bool need_bias, Tensor& dweight, Tensor& dbias) {
  std::shared_ptr<const BackwardWeights> conv;
  {
    dn::SingleThreaded one_thread;
    conv = backward_weights_cache.get(shape_key("conv2d_backward_weights_sample", s, need_bias), [&] {
      auto pd = with_algorithm(s, 1, [&](const ConvDescs& d) { return backward_weights_pd(d, need_bias); });
      return BackwardWeights{pd, dnnl::convolution_backward_weights(pd), dn::Reorder(x_plain(s, 1), pd.src_desc()),
                             dn::Reorder(y_plain(s, 1), pd.diff_dst_desc()), dn::Reorder(pd.diff_weights_desc(), w_plain(s))};
    });
  }
  const BackwardWeights& c = *conv;
  const int64_t weights_size = s.cout * s.cin * s.k * s.k, row = weights_size + s.cout;
  const int threads = num_threads();
  dn::Workspace ws;
  float* partials = static_cast<float*>(ws.buffer(dn::desc({s.batch, row}, dn::tag::ab)).get_data_handle());
  struct ThreadBuffers {
    dnnl::memory src, diff_dst, diff_weights, scratchpad;
  };
  std::vector<ThreadBuffers> buffers;
  for (int t = 0; t < threads; t++)
    buffers.push_back({c.src.needed ? ws.buffer(c.src.to) : dnnl::memory(), c.diff_dst.needed ? ws.buffer(c.diff_dst.to) : dnnl::memory(),
                       c.diff_weights_back.needed ? ws.buffer(c.diff_weights_back.from) : dnnl::memory(),
                       c.pd.scratchpad_desc().get_size() > 0 ? ws.buffer(c.pd.scratchpad_desc()) : dnnl::memory()});

  const float* xp = x.data<float>();
  const float* dyp = dy.data<float>();
  std::exception_ptr failure;
  std::mutex failure_mutex;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t b = 0; b < s.batch; b++) {
    try {
      ThreadBuffers& mine = buffers[static_cast<size_t>(thread_num())];
      float* out = partials + b * row;
      dnnl::memory x_user = dn::wrap(const_cast<float*>(xp + b * s.cin * s.h * s.w), x_plain(s, 1));
      dnnl::memory dy_user = dn::wrap(const_cast<float*>(dyp + b * s.cout * s.oh * s.ow), y_plain(s, 1));
      dnnl::memory dw_user = dn::wrap(out, w_plain(s));
      if (c.src.needed) dn::execute_here(c.src.primitive, {{DNNL_ARG_FROM, x_user}, {DNNL_ARG_TO, mine.src}});
      if (c.diff_dst.needed) dn::execute_here(c.diff_dst.primitive, {{DNNL_ARG_FROM, dy_user}, {DNNL_ARG_TO, mine.diff_dst}});
      const dnnl::memory dw = c.diff_weights_back.needed ? mine.diff_weights : dw_user;
      std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, c.src.needed ? mine.src : x_user},
                                                 {DNNL_ARG_DIFF_DST, c.diff_dst.needed ? mine.diff_dst : dy_user},
                                                 {DNNL_ARG_DIFF_WEIGHTS, dw}};
      if (mine.scratchpad) args.emplace(DNNL_ARG_SCRATCHPAD, mine.scratchpad);
      if (need_bias) args.emplace(DNNL_ARG_DIFF_BIAS, dn::wrap(out + weights_size, dn::desc({s.cout}, dn::tag::x)));
      dn::execute_here(c.primitive, args);
      if (c.diff_weights_back.needed) dn::execute_here(c.diff_weights_back.primitive, {{DNNL_ARG_FROM, dw}, {DNNL_ARG_TO, dw_user}});
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_mutex);
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);

  dweight = Tensor::empty({s.cout, s.cin, s.k, s.k}, x.dtype(), x.device());
  if (need_bias) dbias = Tensor::empty({s.cout}, x.dtype(), x.device());
  float* dw = dweight.data<float>();
  float* db = need_bias ? dbias.data<float>() : nullptr;
  parallel_for_range(need_bias ? row : weights_size, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      float sum = partials[i];
      for (int64_t b = 1; b < s.batch; b++) sum += partials[b * row + i];
      if (i < weights_size)
        dw[i] = sum;
      else
        db[i - weights_size] = sum;
    }
  });
}

Tensors conv2d_backward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 3);
  const Tensor& dy = in[0];
  const Tensor& x = in[1];
  const Tensor& weight = in[2];
  const Conv2dShape s = conv2d_shape(attrs, x, weight);
  check_conv2d_dy(op, dy, s, x.dtype());
  const bool need_input = attrs.flag("need_input"), need_weight = attrs.flag("need_weight"), need_bias = attrs.flag("need_bias");
  Tensor dx, dweight, dbias;
  if (need_input) dx = backward_data(dy, x, weight, s);
  // One primitive gives both; the weight gradient is computed (and dropped) even when only the bias' is asked for.
  if (need_weight || need_bias) backward_weights(dy, x, s, need_bias, dweight, dbias);
  if (!need_weight) dweight = Tensor();
  return {dx, dweight, dbias};
}

KDSR_REGISTER_KERNEL("conv2d", "cpu", "onednn", ({DType::F32}), [](const Tensors& in, const Attrs& attrs) {
  return dn::guarded(attrs.op(), [&] { return conv2d_forward(in, attrs); });
});
KDSR_REGISTER_KERNEL("conv2d_backward", "cpu", "onednn", ({DType::F32}), [](const Tensors& in, const Attrs& attrs) {
  return dn::guarded(attrs.op(), [&] { return conv2d_backward(in, attrs); });
});

}  // namespace
}  // namespace kdsr
