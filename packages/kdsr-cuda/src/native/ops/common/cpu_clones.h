// Hot CPU loops are written once, compiled for several instruction sets and picked at load time,
// so a source build vectorises with AVX-512 / AVX2+FMA where the machine has them and still runs
// on any x86-64. KDSR_CPU_CLONES marks the non-template entry point; what it calls must be inlined
// into it (KDSR_ALWAYS_INLINE) to be compiled for each target.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define KDSR_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define KDSR_CPU_CLONES
#endif

#if defined(__GNUC__)
#define KDSR_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define KDSR_ALWAYS_INLINE inline
#endif
