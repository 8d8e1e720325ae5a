#include "cpu_isa.h"

#include <atomic>
#include <cstdlib>

#include "error.h"

namespace kdsr {
namespace {

// The variants are compiled with GCC's target attributes on x86-64 only (cpu_simd.h).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
CpuIsa best_cpu_isa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4")) return CpuIsa::Avx512;
  if (__builtin_cpu_supports("x86-64-v3")) return CpuIsa::Avx2;
  return CpuIsa::Baseline;
}
#else
CpuIsa best_cpu_isa() { return CpuIsa::Baseline; }
#endif

std::atomic<int>& active() {
  // KDSR_CPU_ISA is read once, at the first kernel that asks; a bad value fails that kernel with a
  // message naming the variable.
  static std::atomic<int> isa([] {
    const CpuIsa best = best_cpu_isa();
    const char* forced = std::getenv("KDSR_CPU_ISA");
    if (!forced || !*forced) return static_cast<int>(best);
    const CpuIsa wanted = parse_cpu_isa(forced, "KDSR_CPU_ISA");
    if (wanted > best) throw Error(concat("KDSR_CPU_ISA=", forced, ": this CPU supports up to ", cpu_isa_name(best), "; unset it or choose a lower one"));
    return static_cast<int>(wanted);
  }());
  return isa;
}

}  // namespace

CpuIsa cpu_isa() { return static_cast<CpuIsa>(active().load(std::memory_order_relaxed)); }

std::vector<CpuIsa> supported_cpu_isas() {
  std::vector<CpuIsa> out;
  for (int i = 0; i <= static_cast<int>(best_cpu_isa()); i++) out.push_back(static_cast<CpuIsa>(i));
  return out;
}

void set_cpu_isa(CpuIsa isa) {
  const CpuIsa best = best_cpu_isa();
  if (isa > best) throw Error(concat("setCpuIsa('", cpu_isa_name(isa), "'): this CPU supports up to '", cpu_isa_name(best), "'"));
  active().store(static_cast<int>(isa));
}

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Avx512: return "avx512";
    case CpuIsa::Avx2: return "avx2";
    default: return "baseline";
  }
}

CpuIsa parse_cpu_isa(const std::string& name, const std::string& what) {
  for (CpuIsa isa : {CpuIsa::Baseline, CpuIsa::Avx2, CpuIsa::Avx512})
    if (name == cpu_isa_name(isa)) return isa;
  throw Error(concat(what, ": unknown instruction set '", name, "'; expected 'avx512', 'avx2' or 'baseline'"));
}

}  // namespace kdsr
