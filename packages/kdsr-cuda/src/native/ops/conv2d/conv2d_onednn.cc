// conv2d forward and backward (data, weights + bias) with oneDNN, float32; any stride and zero padding.
#include "../common/onednn_context.h"
#include "conv2d_shape.h"

namespace kdsr {
namespace {

namespace dn = onednn;
using dnnl::algorithm;
using dnnl::prop_kind;

// Layouts the primitives compute in. `plain` computes on our NCHW / OIHW tensors directly (oneDNN
// uses im2col + GEMM); `any` lets oneDNN pick its blocked layouts (nChw16c / OIhw16i16o on
// AVX-512) and costs reorders of the operands into temporaries. Measured on KDSR-M shapes (B16,
// 64->64, 64x64, 2 Zen 5 cores; ms, median of 15 including the temporaries): forward plain 20-25
// vs blocked 71-122; backward data plain 25-37 vs blocked 79-103; backward weights + bias blocked
// 16-17 vs plain 62-75.
constexpr dn::tag forward_layout = dn::tag::abcd;
constexpr dn::tag backward_data_layout = dn::tag::abcd;
constexpr dn::tag backward_weights_layout = dn::tag::any;

struct ConvDescs {
  dnnl::memory::desc src, weights, bias, dst;
  dn::dims strides{1, 1}, padding;
};

// oneDNN's right/bottom padding: what makes (h + pad + pad_r - k) / stride + 1 == oh exactly (floor mode
// drops the rows a stride skips, so pad_r may be smaller than pad).
dn::dims padding_r(const Conv2dShape& s) { return {(s.oh - 1) * s.stride + s.k - s.h - s.pad, (s.ow - 1) * s.stride + s.k - s.w - s.pad}; }

ConvDescs conv_descs(const Conv2dShape& s, dn::tag layout) {
  return ConvDescs{dn::desc({s.batch, s.cin, s.h, s.w}, layout),
                   dn::desc({s.cout, s.cin, s.k, s.k}, layout),
                   dn::desc({s.cout}, dn::tag::x),
                   dn::desc({s.batch, s.cout, s.oh, s.ow}, layout),
                   {s.stride, s.stride},
                   {s.pad, s.pad}};
}

dnnl::convolution_forward::primitive_desc forward_pd(const Conv2dShape& s, bool bias, dn::tag layout) {
  ConvDescs d = conv_descs(s, layout);
  dnnl::convolution_forward::desc desc =
      bias ? dnnl::convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, d.src, d.weights, d.bias, d.dst, d.strides,
                                             d.padding, padding_r(s))
           : dnnl::convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, d.src, d.weights, d.dst, d.strides, d.padding,
                                             padding_r(s));
  return dnnl::convolution_forward::primitive_desc(desc, dn::attributes(), dn::engine());
}

struct Forward {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward primitive;
};

struct BackwardData {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data primitive;
};

struct BackwardWeights {
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights primitive;
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
    auto pd = forward_pd(s, has_bias, forward_layout);
    return Forward{pd, dnnl::convolution_forward(pd)};
  });
  dn::Workspace ws;
  Tensor y = Tensor::empty({s.batch, s.cout, s.oh, s.ow}, x.dtype(), x.device());
  dnnl::memory y_user = dn::wrap(y, dn::desc({s.batch, s.cout, s.oh, s.ow}, dn::tag::nchw));
  dnnl::memory y_mem = ws.output_in_layout(y_user, conv->pd.dst_desc());
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, ws.in_layout(dn::wrap(x, dn::desc({s.batch, s.cin, s.h, s.w}, dn::tag::nchw)), conv->pd.src_desc())},
      {DNNL_ARG_WEIGHTS, ws.in_layout(dn::wrap(weight, dn::desc({s.cout, s.cin, s.k, s.k}, dn::tag::oihw)), conv->pd.weights_desc())},
      {DNNL_ARG_DST, y_mem}};
  if (has_bias) args.emplace(DNNL_ARG_BIAS, dn::wrap(bias, dn::desc({s.cout}, dn::tag::x)));
  ws.execute(conv->primitive, std::move(args), conv->pd.scratchpad_desc());
  ws.copy_back(y_mem, y_user);
  return {y};
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
  const dnnl::memory::desc x_plain = dn::desc({s.batch, s.cin, s.h, s.w}, dn::tag::nchw);
  const dnnl::memory::desc w_plain = dn::desc({s.cout, s.cin, s.k, s.k}, dn::tag::oihw);
  const dnnl::memory dy_user = dn::wrap(dy, dn::desc({s.batch, s.cout, s.oh, s.ow}, dn::tag::nchw));
  dn::Workspace ws;
  Tensor dx, dweight, dbias;

  if (need_input) {
    auto conv = backward_data_cache.get(shape_key("conv2d_backward_data", s, false), [&] {
      ConvDescs d = conv_descs(s, backward_data_layout);
      dnnl::convolution_backward_data::desc desc(algorithm::convolution_direct, d.src, d.weights, d.dst, d.strides, d.padding, padding_r(s));
      dnnl::convolution_backward_data::primitive_desc pd(desc, dn::attributes(), dn::engine(), forward_pd(s, false, backward_data_layout));
      return BackwardData{pd, dnnl::convolution_backward_data(pd)};
    });
    dx = Tensor::empty(x.shape(), x.dtype(), x.device());
    dnnl::memory dx_user = dn::wrap(dx, x_plain);
    dnnl::memory dx_mem = ws.output_in_layout(dx_user, conv->pd.diff_src_desc());
    ws.execute(conv->primitive,
                {{DNNL_ARG_DIFF_DST, ws.in_layout(dy_user, conv->pd.diff_dst_desc())},
                 {DNNL_ARG_WEIGHTS, ws.in_layout(dn::wrap(weight, w_plain), conv->pd.weights_desc())},
                 {DNNL_ARG_DIFF_SRC, dx_mem}},
                conv->pd.scratchpad_desc());
    ws.copy_back(dx_mem, dx_user);
  }

  if (need_weight || need_bias) {
    // One primitive gives both; the weight gradient is computed (and dropped) even when only the bias' is asked for.
    auto conv = backward_weights_cache.get(shape_key("conv2d_backward_weights", s, need_bias), [&] {
      ConvDescs d = conv_descs(s, backward_weights_layout);
      dnnl::convolution_backward_weights::desc desc =
          need_bias ? dnnl::convolution_backward_weights::desc(algorithm::convolution_direct, d.src, d.weights, d.bias, d.dst, d.strides, d.padding,
                                                               padding_r(s))
                    : dnnl::convolution_backward_weights::desc(algorithm::convolution_direct, d.src, d.weights, d.dst, d.strides, d.padding, padding_r(s));
      dnnl::convolution_backward_weights::primitive_desc pd(desc, dn::attributes(), dn::engine(), forward_pd(s, need_bias, backward_weights_layout));
      return BackwardWeights{pd, dnnl::convolution_backward_weights(pd)};
    });
    dweight = Tensor::empty(weight.shape(), x.dtype(), x.device());
    dnnl::memory dw_user = dn::wrap(dweight, w_plain);
    dnnl::memory dw_mem = ws.output_in_layout(dw_user, conv->pd.diff_weights_desc());
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, ws.in_layout(dn::wrap(x, x_plain), conv->pd.src_desc())},
                                               {DNNL_ARG_DIFF_DST, ws.in_layout(dy_user, conv->pd.diff_dst_desc())},
                                               {DNNL_ARG_DIFF_WEIGHTS, dw_mem}};
    if (need_bias) {
      dbias = Tensor::empty({s.cout}, x.dtype(), x.device());
      args.emplace(DNNL_ARG_DIFF_BIAS, dn::wrap(dbias, dn::desc({s.cout}, dn::tag::x)));
    }
    ws.execute(conv->primitive, std::move(args), conv->pd.scratchpad_desc());
    ws.copy_back(dw_mem, dw_user);
    if (!need_weight) dweight = Tensor();
  }
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
