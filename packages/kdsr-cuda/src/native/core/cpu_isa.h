// The instruction set our own SIMD kernels run with (ops/common/cpu_simd.h): each is compiled for
// x86-64-v4 (AVX-512, 64-byte vectors), x86-64-v3 (AVX2 + FMA, 32-byte vectors) and baseline
// x86-64 (SSE2, 16-byte vectors). The best one this CPU has is used unless a lower one is forced:
// by setCpuIsa() (tests run every variant on one machine) or the environment variable
// KDSR_CPU_ISA (benchmarks emulate a smaller machine). oneDNN has its own switch (ONEDNN_MAX_CPU_ISA).
#pragma once
#include <string>
#include <vector>

namespace kdsr {

enum class CpuIsa { Baseline = 0, Avx2 = 1, Avx512 = 2 };

// The variant kernels run now.
CpuIsa cpu_isa();
// The variants this CPU (and this build) can run, lowest first.
std::vector<CpuIsa> supported_cpu_isas();
// Forces a variant; throws when the CPU or the build lacks it.
void set_cpu_isa(CpuIsa isa);

const char* cpu_isa_name(CpuIsa isa);  // 'avx512', 'avx2', 'baseline'
// Throws on a name that is not one of cpu_isa_name's; `what` says where it came from.
CpuIsa parse_cpu_isa(const std::string& name, const std::string& what);

}  // namespace kdsr
