#include "onednn_context.h"

#include <sstream>

#include "../../core/error.h"
#include "../../core/parallel.h"

namespace kdsr {
namespace onednn {
namespace {

std::mutex stream_mutex;

dnnl::stream& stream() {
  static dnnl::stream s(engine());
  return s;
}

}  // namespace

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::primitive_attr attributes() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

dnnl::memory::desc desc(const dims& shape, tag format) { return dnnl::memory::desc(shape, dnnl::memory::data_type::f32, format); }

dnnl::memory wrap(const Tensor& t, const dnnl::memory::desc& md) {
  if (t.dtype() != DType::F32) throw Error("oneDNN kernels take float32 tensors");
  return dnnl::memory(md, engine(), t.raw());
}

dnnl::memory wrap(void* data, const dnnl::memory::desc& md) { return dnnl::memory(md, engine(), data); }

Reorder::Reorder(const dnnl::memory::desc& from_md, const dnnl::memory::desc& to_md) : from(from_md), to(to_md), needed(from_md != to_md) {
  if (needed) primitive = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), from, engine(), to));
}

void execute_here(const dnnl::primitive& primitive, const std::unordered_map<int, dnnl::memory>& args) {
  // One stream per thread: a stream must not be used by two threads at once.
  thread_local dnnl::stream own(engine());
  primitive.execute(own, args);
  own.wait();
}

dnnl::memory Workspace::buffer(const dnnl::memory::desc& md) {
  held_.push_back(Tensor::empty({static_cast<int64_t>((md.get_size() + 3) / 4)}, DType::F32, Device{}));
  return dnnl::memory(md, engine(), held_.back().raw());
}

dnnl::memory Workspace::in_layout(const dnnl::memory& user, const Reorder& reorder) {
  if (!reorder.needed) return user;
  dnnl::memory converted = buffer(reorder.to);
  execute(reorder.primitive, {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, converted}});
  return converted;
}

dnnl::memory Workspace::output_for(const dnnl::memory& user, const Reorder& back) { return back.needed ? buffer(back.from) : user; }

void Workspace::copy_back(const dnnl::memory& produced, const dnnl::memory& user, const Reorder& back) {
  if (back.needed) execute(back.primitive, {{DNNL_ARG_FROM, produced}, {DNNL_ARG_TO, user}});
}

void Workspace::execute(const dnnl::primitive& primitive, std::unordered_map<int, dnnl::memory> args, const dnnl::memory::desc& scratchpad) {
  if (scratchpad.get_size() > 0) args.emplace(DNNL_ARG_SCRATCHPAD, buffer(scratchpad));
  std::lock_guard<std::mutex> lock(stream_mutex);
  primitive.execute(stream(), args);
  stream().wait();
}

SingleThreaded::SingleThreaded() : saved_(num_threads()) { set_num_threads(1); }
SingleThreaded::~SingleThreaded() { set_num_threads(saved_); }

std::string key(const char* kind, std::initializer_list<int64_t> parts) {
  std::ostringstream out;
  out << kind << "/t" << num_threads();
  for (int64_t p : parts) out << "/" << p;
  return out.str();
}

}  // namespace onednn
}  // namespace kdsr
