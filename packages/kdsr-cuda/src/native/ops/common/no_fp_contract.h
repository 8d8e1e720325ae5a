// Included by the headers whose arithmetic must round identically in a CPU kernel and in its CUDA
// twin (the ops in KDSR_BITWISE_OPS, CMakeLists.txt). IEEE-754 +, -, *, /, sqrt are correctly rounded
// on both, but a compiler may contract a * b + c into one fused multiply-add (nvcc does by default, GCC
// for FMA targets), which rounds once instead of twice. CMake compiles those ops' files with
// -ffp-contract=off / --fmad=false and defines KDSR_NO_FP_CONTRACT; any other file that includes such a
// header fails here rather than silently rounding differently.
#pragma once

#if !defined(KDSR_NO_FP_CONTRACT)
#error "compile this file without FMA contraction: add its op to KDSR_BITWISE_OPS in CMakeLists.txt"
#endif
