/* Model notes: none — machine.c's cache replay loop compiled with the AVX-512 set code (this file
 * only; CMake adds -mavx512f where the compiler has it). Used only where the host has AVX-512F
 * (ags_cache_t.avx512); every hit is the same as with the SSE2 or scalar set code. */
#include "sim/replay.h"

#ifdef AGS_CACHE_AVX512
void ags_machine_replay_avx512(const ags_config_t *cfg, ags_machine_t *m, uint64_t *q, unsigned n)
{
    ags_machine_replay_body(cfg, m, q, n);
}
#endif
