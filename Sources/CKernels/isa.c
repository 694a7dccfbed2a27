#include "CKernels.h"

#include <stdatomic.h>

/* -1 until first use, then the active instruction set. */
static _Atomic int active_isa = -1;

cryo_isa cryo_isa_supported(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512bw")) {
        return CRYO_ISA_AVX512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        return CRYO_ISA_AVX2;
    }
#endif
    return CRYO_ISA_BASELINE;
}

cryo_isa cryo_isa_active(void) {
    int isa = atomic_load_explicit(&active_isa, memory_order_relaxed);
    if (isa < 0) {
        isa = (int)cryo_isa_supported();
        atomic_store_explicit(&active_isa, isa, memory_order_relaxed);
    }
    return (cryo_isa)isa;
}

cryo_isa cryo_isa_limit(cryo_isa limit) {
    cryo_isa supported = cryo_isa_supported();
    cryo_isa isa = limit < supported ? limit : supported;
    atomic_store_explicit(&active_isa, (int)isa, memory_order_relaxed);
    return isa;
}
