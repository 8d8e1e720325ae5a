// Which oneDNN memory layouts and algorithms (and XNNPACK) run KDSR_S-M's inference convolutions
// fastest on this CPU, and whether each gives the same bits at any thread count (kdsr's CPU results
// must not depend on it): plain NCHW (what the training kernels use), NHWC, oneDNN's blocked nChw8c /
// nChw16c and its choice (format_tag::any), direct and Winograd, each timed as the primitive alone
// (operands already in its layout, as in a planned end-to-end network), with the fused post-ops
// (LeakyReLU, residual sum), and the depthwise IDR-DDC convolution. Implementations that are only
// oneDNN's reference kernel for a layout (e.g. nChw16c on an AVX2 CPU) are listed, not timed.
// Build and run: tools/bench-cpu-inference/conv-layouts.sh (ONEDNN_MAX_CPU_ISA=AVX2 emulates an AVX2 CPU).
#include <dnnl.hpp>
#ifdef WITH_XNNPACK
#include <pthreadpool.h>
#include <xnnpack.h>
#endif
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;
using dnnl::algorithm;

static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
static dnnl::stream strm(eng);

template <typename F>
double median_ms(int iters, F&& f) {
  f();  // warm-up
  std::vector<double> t;
  for (int i = 0; i < iters; i++) {
    auto a = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

void fill(const dnnl::memory& m, float scale) {
  float* p = static_cast<float*>(m.get_data_handle());
  for (size_t i = 0; i < m.get_desc().get_size() / 4; i++) p[i] = scale * std::sin(0.37f * static_cast<float>(i));
}

// The activation layout a descriptor holds, by comparing with the tags we know.
std::string layout_name(const dnnl::memory::desc& md) {
  const std::pair<tag, const char*> known[] = {{tag::nchw, "nchw"}, {tag::nhwc, "nhwc"}, {tag::nChw8c, "nChw8c"}, {tag::nChw16c, "nChw16c"}};
  for (const auto& k : known)
    if (md == dnnl::memory::desc(md.dims(), dt::f32, k.first)) return k.second;
  return "other";
}

struct Case {
  const char* name;
  int cin, cout, h, w, groups;
};

enum class PostOps { none, sum, lrelu };

struct Conv {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::memory src, weights, bias, dst, scratchpad;
};

Conv make_conv(const Case& c, tag act, algorithm alg, PostOps post) {
  const int g = c.groups;
  dnnl::memory::dims wdims = g > 1 ? dnnl::memory::dims{g, c.cout / g, c.cin / g, 3, 3} : dnnl::memory::dims{c.cout, c.cin, 3, 3};
  dnnl::memory::desc src({1, c.cin, c.h, c.w}, dt::f32, act), dst({1, c.cout, c.h, c.w}, dt::f32, act), w(wdims, dt::f32, tag::any), b({c.cout}, dt::f32, tag::x);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::post_ops po;
  if (post == PostOps::sum) po.append_sum(1.f);
#if DNNL_VERSION_MAJOR >= 3
  if (post == PostOps::lrelu) po.append_eltwise(algorithm::eltwise_relu, 0.1f, 0.f);
  attr.set_post_ops(po);
  dnnl::convolution_forward::primitive_desc pd(eng, dnnl::prop_kind::forward_inference, alg, src, w, b, dst, {1, 1}, {1, 1}, {1, 1}, attr);
#else
  if (post == PostOps::lrelu) po.append_eltwise(1.f, algorithm::eltwise_relu, 0.1f, 0.f);
  attr.set_post_ops(po);
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, alg, src, w, b, dst, {1, 1}, {1, 1}, {1, 1});
  dnnl::convolution_forward::primitive_desc pd(d, attr, eng);
#endif
  Conv conv{pd, dnnl::memory(pd.src_desc(), eng), dnnl::memory(pd.weights_desc(), eng), dnnl::memory(pd.bias_desc(), eng), dnnl::memory(pd.dst_desc(), eng),
            dnnl::memory(pd.scratchpad_desc(), eng)};
  fill(conv.src, 1.f);
  fill(conv.weights, 0.05f);
  fill(conv.bias, 0.1f);
  return conv;
}

void execute(const Conv& conv, const dnnl::convolution_forward& prim) {
  prim.execute(strm, {{DNNL_ARG_SRC, conv.src}, {DNNL_ARG_WEIGHTS, conv.weights}, {DNNL_ARG_BIAS, conv.bias}, {DNNL_ARG_DST, conv.dst}, {DNNL_ARG_SCRATCHPAD, conv.scratchpad}});
  strm.wait();
}

// The output with `threads` threads (the primitive made for that count), from the same inputs.
std::vector<float> output_with(const Case& c, tag act, algorithm alg, PostOps post, int threads) {
  omp_set_num_threads(threads);
  Conv conv = make_conv(c, act, alg, post);
  fill(conv.dst, 1.f);  // what a sum post-op adds to
  execute(conv, dnnl::convolution_forward(conv.pd));
  const float* p = static_cast<const float*>(conv.dst.get_data_handle());
  return std::vector<float>(p, p + conv.pd.dst_desc().get_size() / 4);
}

void row(const Case& c, tag act, algorithm alg, PostOps post, int iters, int threads) {
  const char* post_name = post == PostOps::sum ? "sum" : post == PostOps::lrelu ? "LeakyReLU" : "-";
  const char* alg_name = alg == algorithm::convolution_winograd ? "Winograd" : "direct";
  omp_set_num_threads(threads);
  Conv conv;
  try {
    conv = make_conv(c, act, alg, post);
  } catch (const dnnl::error&) {
    std::printf("| %s | %s | %s | %s | not implemented | | |\n", c.name, act == tag::any ? "any" : layout_name(dnnl::memory::desc({1, c.cin, c.h, c.w}, dt::f32, act)).c_str(), alg_name, post_name);
    return;
  }
  const std::string impl = conv.pd.impl_info_str();
  const std::string layout = act == tag::any ? "any: " + layout_name(conv.pd.src_desc()) : layout_name(conv.pd.src_desc());
  if (impl.rfind("ref", 0) == 0) {
    std::printf("| %s | %s | %s | %s | %s (reference kernel, not timed) | | |\n", c.name, layout.c_str(), alg_name, post_name, impl.c_str());
    return;
  }
  dnnl::convolution_forward prim(conv.pd);
  const double ms = median_ms(iters, [&] { execute(conv, prim); });
  const std::vector<float> one = output_with(c, act, alg, post, 1);
  std::string same = "yes";
  for (int n : {2, 3, 16}) {
    const std::vector<float> many = output_with(c, act, alg, post, n);
    if (many.size() != one.size() || std::memcmp(many.data(), one.data(), 4 * one.size()) != 0) same = "no (" + std::to_string(n) + " threads differ)";
  }
  omp_set_num_threads(threads);
  std::printf("| %s | %s | %s | %s | %s | %.1f | %s |\n", c.name, layout.c_str(), alg_name, post_name, impl.c_str(), ms, same.c_str());
}

#ifdef WITH_XNNPACK
void xnn_row(const Case& c, pthreadpool_t pool, int iters) {
  std::vector<float> x(static_cast<size_t>(c.cin) * c.h * c.w, 0.1f), y(static_cast<size_t>(c.cout) * c.h * c.w), k(static_cast<size_t>(c.cout) * c.cin / c.groups * 9, 0.01f),
      b(c.cout, 0.f);
  xnn_operator_t op = nullptr;
  if (xnn_create_convolution2d_nhwc_f32(1, 1, 1, 1, 3, 3, 1, 1, 1, 1, c.groups, c.cin / c.groups, c.cout / c.groups, c.cin, c.cout, k.data(), b.data(), -INFINITY,
                                        INFINITY, 0, &op) != xnn_status_success) {
    std::printf("| %s | nhwc | XNNPACK | - | create failed | | |\n", c.name);
    return;
  }
  xnn_setup_convolution2d_nhwc_f32(op, 1, c.h, c.w, x.data(), y.data(), pool);
  const double ms = median_ms(iters, [&] { xnn_run_operator(op, pool); });
  std::printf("| %s | nhwc | XNNPACK | - | xnnpack (pthreadpool) | %.1f | not checked |\n", c.name, ms);
  xnn_delete_operator(op);
}
#endif

int main(int argc, char** argv) {
  const int iters = argc > 1 ? std::atoi(argv[1]) : 9;
  const int threads = omp_get_max_threads();
  std::printf("oneDNN %d.%d.%d, %d OpenMP threads, median of %d runs (ms); same bits: the output at 2, 3 and 16 threads equals 1 thread's\n\n",
              dnnl_version()->major, dnnl_version()->minor, dnnl_version()->patch, threads, iters);
  std::printf("| shape | activations | algorithm | post-ops | implementation | ms | same bits at any thread count |\n| --- | --- | --- | --- | --- | --- | --- |\n");
  const Case cases[] = {
      {"conv 64->64, LR 180x320", 64, 64, 180, 320, 1},
      {"conv 64->256, LR 180x320", 64, 256, 180, 320, 1},
      {"conv 64->256, 2x 360x640", 64, 256, 360, 640, 1},
      {"conv 64->3, 4x 720x1280", 64, 3, 720, 1280, 1},
      {"depthwise 3x3 C64, LR 180x320", 64, 64, 180, 320, 64},
  };
  for (const Case& c : cases) {
    for (tag act : {tag::nchw, tag::nhwc, tag::nChw8c, tag::nChw16c, tag::any}) row(c, act, algorithm::convolution_direct, PostOps::none, iters, threads);
    if (c.groups == 1) {
      for (tag act : {tag::nChw16c, tag::any}) row(c, act, algorithm::convolution_winograd, PostOps::none, iters, threads);
      if (c.cin == c.cout)
        for (tag act : {tag::nhwc, tag::nChw8c, tag::nChw16c}) row(c, act, algorithm::convolution_direct, PostOps::sum, iters, threads);
    }
    for (tag act : {tag::nhwc, tag::nChw8c, tag::nChw16c}) row(c, act, algorithm::convolution_direct, PostOps::lrelu, iters, threads);
  }
#ifdef WITH_XNNPACK
  xnn_initialize(nullptr);
  pthreadpool_t pool = pthreadpool_create(threads);
  for (const Case& c : cases) xnn_row(c, pool, iters);
  pthreadpool_destroy(pool);
#endif
  return 0;
}
