/* A physically-indexed, inclusive three-level cache hierarchy (tags only) for walk and data
 * references. One per machine: page-table entries compete with data as on real hardware. */
#ifndef AGS_CACHE_H
#define AGS_CACHE_H

#include <stdint.h>
#include "agilesim/config.h"
/* The set code: AVX-512 in a translation unit compiled for it (cache_avx512.c, chosen at run time
 * by ags_cache_t.avx512), else SSE2, else (or with AGS_CACHE_SCALAR, which a test builds) the
 * portable loops. All three keep the same MRU-first order, so every hit is the same. */
#if defined(__AVX512F__) && !defined(AGS_CACHE_SCALAR)
#define AGS_CACHE_AVX512 1
#include <immintrin.h>
#elif defined(__SSE2__) && !defined(AGS_CACHE_SCALAR)
#define AGS_CACHE_SSE2 1
#include <emmintrin.h>
#endif

#define AGS_CACHE_INVALID 0xffffffffu

/* One level: 32-bit tags (line >> set bits), MRU-first per set, exact LRU. A set occupies
 * `stride` tags (ways rounded up to a multiple of 4, so that it is whole 16-byte vectors, 16-byte
 * aligned); the padding ways never match (`waymask`) and never move. */
typedef struct {
    uint32_t *tag;
    uint32_t set_mask, set_bits, ways;
    uint32_t stride, nvec;  /* tags per set (4 * nvec), 16-byte vectors per set */
    uint64_t waymask;       /* bit w set for every real way w */
} ags_clevel_t;

typedef struct {
    ags_clevel_t lvl[3];
    unsigned line_shift;
    int on;
    int avx512;             /* the host runs AVX-512F and the AVX-512 set code was built: the
                             * replay uses it (ags_machine_replay_avx512) */
} ags_cache_t;

int ags_cache_init(ags_cache_t *c, const ags_config_t *cfg);
void ags_cache_fini(ags_cache_t *c);
/* The host CPU (and OS) run AVX-512F code, and this build has it (AGS_HAVE_AVX512). */
int ags_cache_host_avx512(void);
/* ags_cache_access_line with the AVX-512 set code (cache_avx512.c; only where c->avx512): one
 * line at a time, for the unit test that checks the set code against the reference LRU. */
unsigned ags_cache_access_line_avx512(ags_cache_t *c, uint64_t line);

static inline uint32_t *ags_clevel_set(const ags_clevel_t *l, uint64_t line)
{
    return l->tag + (size_t)(line & l->set_mask) * l->stride;
}

#if defined(AGS_CACHE_AVX512)
/* Move the ways before way i back one and put tag at way 0 (ways after i stay): 16 ways per
 * step, each step's vector shifted one lane up with the last lane of the step before (the tag,
 * first) entering at lane 0; only lanes up to i are stored. Loads are unaligned and may read up to
 * 12 ways past the set (into the next set or the array's 48 bytes of slack), never stored. */
static inline void ags_clevel_shift_upto(uint32_t *t, uint32_t tag, uint32_t i)
{
    __m512i prev = _mm512_set1_epi32((int)tag);
    for (uint32_t v = 0;; v += 16) {
        __m512i cur = _mm512_loadu_si512(t + v);
        __m512i sh = _mm512_alignr_epi32(cur, prev, 15); /* lane 0: prev's lane 15; lane j: cur's j-1 */
        if (i - v < 16) {
            _mm512_mask_storeu_epi32(t + v, (__mmask16)((2u << (i - v)) - 1), sh);
            return;
        }
        _mm512_storeu_si512(t + v, sh);
        prev = cur;
    }
}

/* The way holding tag in set t, or -1: 16 ways per compare. */
static inline int ags_clevel_find(const ags_clevel_t *l, const uint32_t *t, uint32_t tag)
{
    __m512i k = _mm512_set1_epi32((int)tag);
    for (uint32_t v = 0; v < l->stride; v += 16) {
        uint64_t bits = _mm512_cmpeq_epi32_mask(_mm512_loadu_si512(t + v), k) & (l->waymask >> v);
        if (bits)
            return (int)(v + (uint32_t)__builtin_ctzll(bits));
    }
    return -1;
}

static inline void ags_clevel_promote(const ags_clevel_t *l, uint32_t *t, uint32_t tag, uint32_t i)
{
    (void)l;
    ags_clevel_shift_upto(t, tag, i);
}

/* Insert tag at the front: every way of the stride moves back one, the last leaves (into the
 * padding, which no lookup sees, or out of the set). */
static inline void ags_clevel_rotate(const ags_clevel_t *l, uint32_t *t, uint32_t tag)
{
    ags_clevel_shift_upto(t, tag, l->stride - 1);
}
#elif defined(AGS_CACHE_SSE2)
/* Which of the 16 ways from t hold the tag k, as bits. Always reads 16 ways: a smaller set is
 * followed by its padding or the next set (masked off by the caller's waymask), and the tag
 * array has 48 bytes of slack after its last set. */
static inline uint64_t ags_clevel_match16(const uint32_t *t, __m128i k)
{
    const __m128i *p = (const __m128i *)(const void *)t;
    __m128i e0 = _mm_cmpeq_epi32(_mm_load_si128(p), k), e1 = _mm_cmpeq_epi32(_mm_load_si128(p + 1), k);
    __m128i e2 = _mm_cmpeq_epi32(_mm_load_si128(p + 2), k), e3 = _mm_cmpeq_epi32(_mm_load_si128(p + 3), k);
    __m128i b = _mm_packs_epi16(_mm_packs_epi32(e0, e1), _mm_packs_epi32(e2, e3));
    return (uint64_t)(unsigned)_mm_movemask_epi8(b);
}

/* The way holding tag in set t, or -1: 16 ways per step, without branches. */
static inline int ags_clevel_find(const ags_clevel_t *l, const uint32_t *t, uint32_t tag)
{
    __m128i k = _mm_set1_epi32((int)tag);
    uint64_t bits = ags_clevel_match16(t, k);
    for (uint32_t v = 4; v < l->nvec; v += 4)
        bits |= ags_clevel_match16(t + 4 * v, k) << (4 * v);
    bits &= l->waymask;
    return bits ? __builtin_ctzll(bits) : -1;
}

/* Move way i to the front with tag (ways 0..i-1 move back one; ways after i stay): four ways per
 * step, and only the vectors up to way i. */
static inline void ags_clevel_promote(const ags_clevel_t *l, uint32_t *t, uint32_t tag, uint32_t i)
{
    (void)l;
    const __m128i lim = _mm_set1_epi32((int)i);
    __m128i idx = _mm_setr_epi32(0, 1, 2, 3), prev = _mm_setzero_si128();
    for (uint32_t v = 0; v <= i / 4; v++) {
        __m128i *p = (__m128i *)(void *)(t + 4 * v);
        __m128i cur = _mm_load_si128(p);
        __m128i sh = _mm_or_si128(_mm_slli_si128(cur, 4), _mm_srli_si128(prev, 12));
        __m128i keep = _mm_cmpgt_epi32(idx, lim); /* ways after i (indices < 2^31) */
        _mm_store_si128(p, _mm_or_si128(_mm_and_si128(keep, cur), _mm_andnot_si128(keep, sh)));
        prev = cur;
        idx = _mm_add_epi32(idx, _mm_set1_epi32(4));
    }
    t[0] = tag;
}

/* One vector of a set moved back one way: the last way of prev enters at way 0 */
static inline __m128i ags_clevel_shift1(__m128i cur, __m128i prev)
{
    return _mm_or_si128(_mm_slli_si128(cur, 4), _mm_srli_si128(prev, 12));
}

/* Insert tag at the front: every way moves back one, the last leaves (into the padding, which
 * no lookup sees). The first four vectors (sets of up to 16 ways, the usual ones) without a
 * loop. */
static inline void ags_clevel_rotate(const ags_clevel_t *l, uint32_t *t, uint32_t tag)
{
    __m128i *p = (__m128i *)(void *)t;
    uint32_t nvec = l->nvec;
    __m128i c0 = _mm_load_si128(p), c1, c2, c3;
    _mm_store_si128(p, _mm_or_si128(_mm_slli_si128(c0, 4), _mm_cvtsi32_si128((int)tag)));
    if (nvec < 2)
        return;
    c1 = _mm_load_si128(p + 1);
    _mm_store_si128(p + 1, ags_clevel_shift1(c1, c0));
    if (nvec < 3)
        return;
    c2 = _mm_load_si128(p + 2);
    _mm_store_si128(p + 2, ags_clevel_shift1(c2, c1));
    if (nvec < 4)
        return;
    c3 = _mm_load_si128(p + 3);
    _mm_store_si128(p + 3, ags_clevel_shift1(c3, c2));
    for (uint32_t v = 4; v < nvec; v++) {
        __m128i cur = _mm_load_si128(p + v);
        _mm_store_si128(p + v, ags_clevel_shift1(cur, c3));
        c3 = cur;
    }
}
#else
static inline void ags_clevel_rotate(const ags_clevel_t *l, uint32_t *t, uint32_t tag)
{
    for (uint32_t j = l->ways - 1; j > 0; j--)
        t[j] = t[j - 1];
    t[0] = tag;
}

static inline int ags_clevel_find(const ags_clevel_t *l, const uint32_t *t, uint32_t tag)
{
    for (uint32_t i = 0; i < l->ways; i++)
        if (t[i] == tag)
            return (int)i;
    return -1;
}

static inline void ags_clevel_promote(const ags_clevel_t *l, uint32_t *t, uint32_t tag, uint32_t i)
{
    (void)l;
    for (uint32_t j = i; j > 0; j--)
        t[j] = t[j - 1];
    t[0] = tag;
}
#endif

/* Look tag up in set t of l: on a hit, the way moves to the front. */
static inline int ags_clevel_hit(const ags_clevel_t *l, uint32_t *t, uint32_t tag)
{
    if (t[0] == tag)
        return 1;
    int i = ags_clevel_find(l, t, tag);
    if (i < 0)
        return 0;
    ags_clevel_promote(l, t, tag, (uint32_t)i);
    return 1;
}

/* Access one line (hpa >> line_shift); returns where it hit: 1 = L1, 2 = L2, 3 = LLC, 4 = DRAM.
 * Fills every level inside the one that hit (all three on a miss). Each level's set and tag are
 * computed once, from the level's fields read once (stores to the sets could alias them). */
static inline unsigned ags_cache_access_line(ags_cache_t *c, uint64_t line)
{
    const ags_clevel_t *l0 = &c->lvl[0], *l1 = &c->lvl[1], *l2 = &c->lvl[2];
    uint32_t *t0 = ags_clevel_set(l0, line), g0 = (uint32_t)(line >> l0->set_bits);
    if (ags_clevel_hit(l0, t0, g0))
        return 1;
    uint32_t *t1 = ags_clevel_set(l1, line), g1 = (uint32_t)(line >> l1->set_bits);
    unsigned where = 2;
    if (!ags_clevel_hit(l1, t1, g1)) {
        uint32_t *t2 = ags_clevel_set(l2, line), g2 = (uint32_t)(line >> l2->set_bits);
        where = 3;
        if (!ags_clevel_hit(l2, t2, g2)) {
            where = 4;
            ags_clevel_rotate(l2, t2, g2);
        }
        ags_clevel_rotate(l1, t1, g1);
    }
    ags_clevel_rotate(l0, t0, g0);
    return where;
}

static inline unsigned ags_cache_access(ags_cache_t *c, uint64_t hpa)
{
    return ags_cache_access_line(c, hpa >> c->line_shift);
}

#endif
