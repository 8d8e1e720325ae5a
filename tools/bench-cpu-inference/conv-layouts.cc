// Which oneDNN memory layouts (and XNNPACK) run KDSR_S-M's inference convolutions fastest on this
// CPU: plain NCHW (what the training kernels use), NHWC, and oneDNN's blocked layouts (format_tag::any),
// each timed as the primitive alone (operands already in its layout, as in a planned end-to-end
// network), plus the fused post-ops (LeakyReLU, residual sum) and the depthwise IDR-DDC convolution.
// Build and run: tools/bench-cpu-inference/conv-layouts.sh (ONEDNN_MAX_CPU_ISA=AVX2 emulates an AVX2 CPU).
#include <dnnl.hpp>
#ifdef WITH_XNNPACK
#include <xnnpack.h>
#include <pthreadpool.h>
#endif
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

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

dnnl::memory filled(const dnnl::memory::desc& md) {
  dnnl::memory m(md, eng);
  float* p = static_cast<float*>(m.get_data_handle());
  for (size_t i = 0; i < md.get_size() / 4; i++) p[i] = 0.01f * static_cast<float>((i * 7919) % 97) - 0.4f;
  return m;
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

// One convolution, stride 1, padding 1, 3x3; layouts for src/dst and weights; optional post-ops.
void conv(const Case& c, tag act, tag wt, bool post_ops, int iters) {
  const int g = c.groups;
  dnnl::memory::dims src{1, c.cin, c.h, c.w}, dst{1, c.cout, c.h, c.w};
  dnnl::memory::dims wdims = g > 1 ? dnnl::memory::dims{g, c.cout / g, c.cin / g, 3, 3} : dnnl::memory::dims{c.cout, c.cin, 3, 3};
  tag w_tag = wt;
  if (g > 1 && wt == tag::oihw) w_tag = tag::goihw;
  if (g > 1 && wt == tag::ohwi) w_tag = tag::gohwi;
  dnnl::memory::desc src_md(src, dt::f32, act), dst_md(dst, dt::f32, act), w_md(wdims, dt::f32, w_tag), b_md({c.cout}, dt::f32, tag::x);
  dnnl::primitive_attr attr;
  if (post_ops) {
    dnnl::post_ops po;
    if (g == 1) po.append_sum(1.f);
#if DNNL_VERSION_MAJOR >= 3
    po.append_eltwise(dnnl::algorithm::eltwise_relu, 0.1f, 0.f);
#else
    po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.1f, 0.f);
#endif
    attr.set_post_ops(po);
  }
#if DNNL_VERSION_MAJOR >= 3
  dnnl::convolution_forward::primitive_desc pd(eng, dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md, w_md, b_md, dst_md, {1, 1}, {1, 1}, {1, 1}, attr);
#else
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md, w_md, b_md, dst_md, {1, 1}, {1, 1}, {1, 1});
  dnnl::convolution_forward::primitive_desc pd(d, attr, eng);
#endif
  auto s = filled(pd.src_desc()), w = filled(pd.weights_desc()), b = filled(pd.bias_desc()), y = filled(pd.dst_desc());
  dnnl::convolution_forward prim(pd);
  double ms = median_ms(iters, [&] {
    prim.execute(strm, {{DNNL_ARG_SRC, s}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, y}});
    strm.wait();
  });
  const std::string an = act == tag::any ? "any: " + layout_name(pd.src_desc()) : layout_name(pd.src_desc());
  const char* wn = wt == tag::any ? "any" : "plain";
  std::printf("| %s | %s | %s | %s | %s | %.2f |\n", c.name, an.c_str(), wn, post_ops ? (g == 1 ? "sum+lrelu" : "lrelu") : "-", pd.impl_info_str(), ms);
}

#ifdef WITH_XNNPACK
void xnn_conv(const Case& c, pthreadpool_t pool, int iters) {
  std::vector<float> x(static_cast<size_t>(c.cin) * c.h * c.w, 0.1f), y(static_cast<size_t>(c.cout) * c.h * c.w), k(static_cast<size_t>(c.cout) * c.cin / c.groups * 9, 0.01f), b(c.cout, 0.f);
  xnn_operator_t op = nullptr;
  if (xnn_create_convolution2d_nhwc_f32(1, 1, 1, 1, 3, 3, 1, 1, 1, 1, c.groups, c.cin / c.groups, c.cout / c.groups, c.cin, c.cout, k.data(), b.data(), -INFINITY, INFINITY, 0, &op) != xnn_status_success) {
    std::printf("| %s | XNNPACK create failed |\n", c.name);
    return;
  }
  xnn_setup_convolution2d_nhwc_f32(op, 1, c.h, c.w, x.data(), y.data(), pool);
  double ms = median_ms(iters, [&] { xnn_run_operator(op, pool); });
  std::printf("| %s | nhwc | XNNPACK | - | xnnpack | %.2f |\n", c.name, ms);
  xnn_delete_operator(op);
}
#endif

int main(int argc, char** argv) {
  const int iters = argc > 1 ? std::atoi(argv[1]) : 9;
  std::printf("oneDNN %d.%d.%d, %d OpenMP threads, median of %d runs (ms)\n\n", dnnl_version()->major, dnnl_version()->minor, dnnl_version()->patch, omp_get_max_threads(), iters);
  std::printf("| shape | activations | weights | post-ops | oneDNN implementation | ms |\n| --- | --- | --- | --- | --- | --- |\n");
  const Case cases[] = {
      {"conv 64->64, LR 180x320", 64, 64, 180, 320, 1},
      {"conv 64->256, LR 180x320", 64, 256, 180, 320, 1},
      {"conv 64->256, 2x 360x640", 64, 256, 360, 640, 1},
      {"conv 64->3, 4x 720x1280", 64, 3, 720, 1280, 1},
      {"depthwise 3x3 C64, LR 180x320", 64, 64, 180, 320, 64},
  };
  for (const Case& c : cases) {
    conv(c, tag::nchw, tag::oihw, false, iters);
    for (tag act : {tag::nchw, tag::nhwc, tag::nChw8c, tag::nChw16c, tag::any}) conv(c, act, tag::any, false, iters);
    for (tag act : {tag::nhwc, tag::nChw8c, tag::nChw16c}) conv(c, act, tag::any, true, iters);
  }
#ifdef WITH_XNNPACK
  xnn_initialize(nullptr);
  pthreadpool_t pool = pthreadpool_create(omp_get_max_threads());
  for (const Case& c : cases) xnn_conv(c, pool, iters);
  pthreadpool_destroy(pool);
#endif
  return 0;
}
