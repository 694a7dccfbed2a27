#include "CKernels.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

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
        /* CRYOSCRIPT_ISA=sse2|avx2 caps the choice (to measure the narrower paths); anything else is ignored. */
        const char *cap = getenv("CRYOSCRIPT_ISA");
        cryo_isa limit = CRYO_ISA_AVX512;
        if (cap && strcmp(cap, "sse2") == 0) limit = CRYO_ISA_BASELINE;
        if (cap && strcmp(cap, "avx2") == 0) limit = CRYO_ISA_AVX2;
        return cryo_isa_limit(limit);
    }
    return (cryo_isa)isa;
}

cryo_isa cryo_isa_limit(cryo_isa limit) {
    cryo_isa supported = cryo_isa_supported();
    cryo_isa isa = limit < supported ? limit : supported;
    atomic_store_explicit(&active_isa, (int)isa, memory_order_relaxed);
    return isa;
}
