// conv2d_blocked and conv2d_block_size with oneDNN (float32). The activations stay in the blocked layout
// they arrive in (NCHW, NHWC, nChw8c or nChw16c: ops/common/blocked_layout.h), so a chain of these
// convolutions runs without reorders; LeakyReLU and the residual add are post-ops (eltwise, sum) of
// the convolution, the residual being the destination it accumulates into. The weights are
// reordered from OIHW into the primitive's layout once and kept (PackedWeights below): on the loaded
// 2-core development VM a reorder call cost milliseconds however small the weights (a parallel region
// waiting for the second thread), 1.7 s of a 13 s KDSR_S-M generator pass when it ran per call.
//
// Algorithm. 3x3 convolutions with at least 16 input channels and no more output channels (the body's
// C -> C, the bulk of the work) use oneDNN 2.x's f32 Winograd F(4x4, 3x3) kernel where it exists
// (AVX-512) and accepts the post-ops (the residual sum; not LeakyReLU): KDSR_S-M at LR 180x320 in
// 1.9 s instead of 2.7 s. It is asked for as forward_training: for forward_inference oneDNN may pick
// its 2x3 kernel, whose sums depend on the thread count (tools/bench-cpu-inference/conv-layouts.cc),
// while the 4x3 kernel gives the same bits at any thread count (test/blocked-ops.test.ts). Widening
// convolutions (the upsampler's C -> 4C) stay direct: Winograd's transformed-output scratchpad, 36
// values per 4x4 output tile and channel, would add 0.3 GB to the peak at LR 180x320 to save 0.2 s.
// Everything else is direct. The choice depends on the machine and the shape only, never on timing.
//
// The oneDNN calls of this file build against both the 2.x and 3.x APIs (convolution descriptors
// were folded into primitive descriptors in 3.0, and eltwise post-ops lost their scale).
#include <cstring>
#include <list>
#include <mutex>
#include <vector>

#include "../common/onednn_context.h"
#include "conv2d_blocked_shape.h"

namespace kdsr {
namespace {

namespace dn = onednn;
using dnnl::algorithm;
using dnnl::prop_kind;

dn::tag activation_tag(const std::string& op, const BlockedShape& s) {
  if (s.block == 1) return dn::tag::nchw;
  if (s.blocks == 1 && s.block == s.channels) return dn::tag::nhwc;
  if (s.block == 8) return dn::tag::nChw8c;
  if (s.block == 16) return dn::tag::nChw16c;
  throw Error(concat("Error in ", op, ": oneDNN computes on channel blocks of 1, 8, 16 or all channels, got blocks of ", s.block, " for ", s.channels,
                     " channels"));
}

dnnl::memory::desc activation_desc(const std::string& op, const BlockedShape& s) {
  return dn::desc({s.batch, s.channels, s.height, s.width}, activation_tag(op, s));
}

dnnl::convolution_forward::primitive_desc make_pd(prop_kind kind, algorithm alg, const dnnl::memory::desc& src, const dnnl::memory::desc& weights,
                                                 const dnnl::memory::desc* bias, const dnnl::memory::desc& dst, int64_t k, const dnnl::primitive_attr& attr) {
  const dn::dims strides{1, 1}, padding{k / 2, k / 2};
#if DNNL_VERSION_MAJOR >= 3
  return dnnl::convolution_forward::primitive_desc(dn::engine(), kind, alg, src, weights, bias ? *bias : dnnl::memory::desc(), dst, strides, padding,
                                                   padding, attr);
#else
  const auto desc = bias ? dnnl::convolution_forward::desc(kind, alg, src, weights, *bias, dst, strides, padding, padding)
                         : dnnl::convolution_forward::desc(kind, alg, src, weights, dst, strides, padding, padding);
  return dnnl::convolution_forward::primitive_desc(desc, attr, dn::engine());
#endif
}

// A k x k convolution from cin to cout channels.
dnnl::convolution_forward::primitive_desc inference_pd(const dnnl::memory::desc& src, const dnnl::memory::desc& weights, const dnnl::memory::desc* bias,
                                                       const dnnl::memory::desc& dst, int64_t cin, int64_t cout, int64_t k, const dnnl::primitive_attr& attr) {
  // The rule of "Algorithm" above; a Winograd request that oneDNN has no kernel for throws.
  if (k == 3 && cin >= 16 && cout <= cin) {
    try {
      return make_pd(prop_kind::forward_training, algorithm::convolution_winograd, src, weights, bias, dst, k, attr);
    } catch (const dnnl::error&) {
      // No Winograd kernel for this call on this machine (AVX2, oneDNN 3.x, LeakyReLU post-op).
    }
  }
  return make_pd(prop_kind::forward_inference, algorithm::convolution_direct, src, weights, bias, dst, k, attr);
}

void append_leaky_relu(dnnl::post_ops& ops, float slope) {
#if DNNL_VERSION_MAJOR >= 3
  ops.append_eltwise(algorithm::eltwise_relu, slope, 0.f);
#else
  ops.append_eltwise(1.f, algorithm::eltwise_relu, slope, 0.f);
#endif
}

// Weights in a primitive's layout, made from the OIHW tensor at `source` and kept for the next call with
// the same tensor. An entry is used only while the tensor still holds the bytes it was made from
// (compared in full: a few microseconds), so weights updated in place, or a new tensor at a reused
// address, are reordered afresh. The least recently used entries go beyond kCapacity tensors (KDSR_S-M
// runs 80 convolutions). The packed tensors come from the CPU allocator and count as live memory.
class PackedWeights {
 public:
  static constexpr size_t kCapacity = 256;

  // The weights in layout `wanted`, reordered now unless kept from an earlier call.
  dnnl::memory get(const Tensor& weight, const dnnl::memory::desc& plain, const dnnl::memory::desc& wanted) {
    if (plain == wanted) return dn::wrap(weight, plain);
    std::lock_guard<std::mutex> lock(mutex_);
    const char* bytes = static_cast<const char*>(weight.raw());
    auto it = entries_.begin();
    while (it != entries_.end() && it->source_address != weight.raw()) ++it;
    if (it != entries_.end() && (it->source.size() != weight.nbytes() || std::memcmp(it->source.data(), bytes, weight.nbytes()) != 0)) {
      entries_.erase(it);
      it = entries_.end();
    }
    if (it == entries_.end()) {
      entries_.push_front(Entry{weight.raw(), std::vector<char>(bytes, bytes + weight.nbytes()), {}});
      if (entries_.size() > kCapacity) entries_.pop_back();
      it = entries_.begin();
    } else {
      entries_.splice(entries_.begin(), entries_, it);
      it = entries_.begin();
    }
    for (const auto& [desc, packed] : it->packed)
      if (desc == wanted) return dn::wrap(packed, wanted);
    Tensor packed = Tensor::empty({static_cast<int64_t>((wanted.get_size() + 3) / 4)}, DType::F32, Device{});
    dn::Workspace ws;
    ws.copy_back(dn::wrap(weight, plain), dn::wrap(packed, wanted), dn::Reorder(plain, wanted));
    it->packed.emplace_back(wanted, packed);
    return dn::wrap(packed, wanted);
  }

 private:
  struct Entry {
    const void* source_address;
    std::vector<char> source;
    std::vector<std::pair<dnnl::memory::desc, Tensor>> packed;  // one per layout asked for
  };
  std::mutex mutex_;
  std::list<Entry> entries_;  // most recently used first
};

PackedWeights packed_weights;

struct Forward {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward primitive;
};

dn::PrimitiveCache<Forward> forward_cache;

Tensors conv2d_blocked_forward(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  const Conv2dBlockedShape s = conv2d_blocked_shape(in, attrs);
  const float slope = static_cast<float>(s.slope);
  uint32_t slope_bits;
  std::memcpy(&slope_bits, &slope, sizeof slope_bits);
  const dnnl::memory::desc src = activation_desc(op, s.in), dst = activation_desc(op, s.out);
  const dnnl::memory::desc weights_plain = dn::desc({s.out.channels, s.in.channels, s.k, s.k}, dn::tag::oihw);
  const dnnl::memory::desc bias = dn::desc({s.out.channels}, dn::tag::x);
  auto conv = forward_cache.get(dn::key("conv2d_blocked", {s.in.batch, s.in.channels, s.out.channels, s.in.height, s.in.width, s.k, s.in.block, s.out.block,
                                                           s.has_bias, s.has_residual, s.fused, slope_bits}),
                                [&] {
                                  dnnl::post_ops ops;
                                  if (s.fused) append_leaky_relu(ops, slope);
                                  if (s.has_residual) ops.append_sum(1.f);
                                  dnnl::primitive_attr attr = dn::attributes();
                                  attr.set_post_ops(ops);
                                  const dnnl::memory::desc weights_any = dn::desc({s.out.channels, s.in.channels, s.k, s.k}, dn::tag::any);
                                  auto pd = inference_pd(src, weights_any, s.has_bias ? &bias : nullptr, dst, s.in.channels, s.out.channels, s.k, attr);
                                  return Forward{pd, dnnl::convolution_forward(pd)};
                                });
  Tensor y = conv2d_blocked_output(in, s);
  dn::Workspace ws;
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, dn::wrap(in[0], src)},
                                             {DNNL_ARG_WEIGHTS, packed_weights.get(in[1], weights_plain, conv->pd.weights_desc())},
                                             {DNNL_ARG_DST, dn::wrap(y, dst)}};
  if (s.has_bias) args.emplace(DNNL_ARG_BIAS, dn::wrap(in[2], bias));
  ws.execute(conv->primitive, std::move(args), conv->pd.scratchpad_desc());
  return {y};
}

// The activation layout oneDNN's fastest convolution with this weight shape picks on this CPU (asked
// with format_tag::any on a 64x64 image): 0 for NHWC, 8 or 16 for nChw8c / nChw16c, 1 (NCHW) otherwise.
Tensors conv2d_block_size(const Tensors& in, const Attrs& attrs) {
  const std::string& op = attrs.op();
  check_inputs(op, in, 1);
  const Tensor& weight = in[0];
  check_rank(op, weight, 4, "weight");
  const int64_t cout = weight.dim(0), cin = weight.dim(1), k = weight.dim(2);
  const dn::dims src_dims{1, cin, 64, 64};
  const dnnl::memory::desc src = dn::desc(src_dims, dn::tag::any), dst = dn::desc({1, cout, 64, 64}, dn::tag::any);
  const dnnl::memory::desc bias = dn::desc({cout}, dn::tag::x);
  const auto pd = inference_pd(src, dn::desc({cout, cin, k, k}, dn::tag::any), &bias, dst, cin, cout, k, dn::attributes());
  float block = 1;
  if (pd.src_desc() == dn::desc(src_dims, dn::tag::nhwc))
    block = 0;
  else if (pd.src_desc() == dn::desc(src_dims, dn::tag::nChw16c))
    block = 16;
  else if (pd.src_desc() == dn::desc(src_dims, dn::tag::nChw8c))
    block = 8;
  Tensor out = Tensor::empty({1}, DType::F32, weight.device());
  out.data<float>()[0] = block;
  return {out};
}

KDSR_REGISTER_KERNEL("conv2d_blocked", "cpu", "onednn", ({DType::F32}), [](const Tensors& in, const Attrs& attrs) {
  return dn::guarded(attrs.op(), [&] { return conv2d_blocked_forward(in, attrs); });
});
KDSR_REGISTER_KERNEL("conv2d_block_size", "cpu", "onednn", ({DType::F32}), [](const Tensors& in, const Attrs& attrs) {
  return dn::guarded(attrs.op(), [&] { return conv2d_block_size(in, attrs); });
});

}  // namespace
}  // namespace kdsr
