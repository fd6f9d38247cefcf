/* Model notes: none — the cache model's set code compiled for AVX-512F (this file only; CMake adds
 * -mavx512f where the compiler has it and defines AGS_HAVE_AVX512). It runs only where
 * ags_cache_host_avx512() found AVX-512F at run time; the model is cache.h's, unchanged. */
#include "hw/cache.h"

#ifdef AGS_CACHE_AVX512
unsigned ags_cache_access_line_avx512(ags_cache_t *c, uint64_t line)
{
    return ags_cache_access_line(c, line);
}
#endif
