/* The .agt trace format (see docs/trace-format.md): shared by the reader and the writer. */
#ifndef AGS_AGT_H
#define AGS_AGT_H

#include <stdint.h>
#include <string.h>

#define AGT_MAGIC "AGSTRACE"
#define AGT_VERSION 1u
#define AGT_HEADER_SIZE 64
#define AGT_FLAG_ZSTD 1u        /* the whole file (header included) is one zstd stream */

/* record tags */
#define AGT_TAG_PID 0xffu       /* varint pid: the process of the following accesses */
#define AGT_TAG_TID 0xfdu       /* varint tid: the thread of the following accesses (0: none) */
#define AGT_TAG_MARK 0xfcu      /* varint: the recording was cut short (AGS_TRUNC_*) */
#define AGT_TAG_END 0xfeu       /* varint record count, 8-byte checksum: the trailer */
#define AGT_TAG_EVENT 0x80u     /* | type (< 16): varints pid, icount, addr, len, arg, arg2 */
/* access: bit 7 clear; bits 0-1 kind; bits 2-3 size code; bits 4-5 icount code; then the
 * address as a zigzag varint delta from the previous address of its class (fetch / data) */
#define AGT_SIZE_8 0u
#define AGT_SIZE_4 1u
#define AGT_SIZE_VAR 2u
#define AGT_SIZE_PREV 3u
#define AGT_ICNT_0 0u
#define AGT_ICNT_1 1u
#define AGT_ICNT_VAR 2u
#define AGT_ICNT_PREV 3u

_Static_assert(AGT_HEADER_SIZE == 64, "header layout");

/* Streaming 64-bit checksum over a byte stream (8-byte words, little-endian, zero tail). */
typedef struct {
    uint64_t h;
    uint64_t carry;
    unsigned ncarry;
    uint64_t total;
} agt_hash_t;

static inline void agt_hash_init(agt_hash_t *s)
{
    s->h = 0x243f6a8885a308d3ULL;
    s->carry = 0;
    s->ncarry = 0;
    s->total = 0;
}

static inline uint64_t agt_hash_word(uint64_t h, uint64_t w)
{
    h ^= w * 0x87c37b91114253d5ULL;
    h = (h << 31) | (h >> 33);
    return h * 0x4cf5ad432745937fULL;
}

static inline void agt_hash_update(agt_hash_t *s, const uint8_t *p, size_t n)
{
    s->total += n;
    while (n && s->ncarry) {
        s->carry |= (uint64_t)*p++ << (8 * s->ncarry++);
        n--;
        if (s->ncarry == 8) {
            s->h = agt_hash_word(s->h, s->carry);
            s->carry = 0;
            s->ncarry = 0;
        }
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        s->h = agt_hash_word(s->h, w);
        p += 8;
        n -= 8;
    }
    while (n--) {
        s->carry |= (uint64_t)*p++ << (8 * s->ncarry++);
    }
}

static inline uint64_t agt_hash_final(const agt_hash_t *s)
{
    uint64_t h = s->h;
    if (s->ncarry)
        h = agt_hash_word(h, s->carry);
    return agt_hash_word(h, s->total);
}

static inline uint64_t agt_zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t agt_unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

static inline void agt_put_u64le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint64_t agt_get_u64le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

#endif
