/* Model notes: none — the .agt decoder (docs/trace-format.md). Records decode into the caller's
 * buffer; a fast path handles access records whole in the buffer (and folds the bytes it has
 * decoded into the checksum as it goes), the checked path everything else and reports errors.
 * The trailer's record count and checksum are verified at the end. */
#include "trace/reader_impl.h"
#include <stddef.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* the fast path writes an access event's fields over a 16-byte template: this layout */
_Static_assert(offsetof(ags_event_t, type) == 0 && offsetof(ags_event_t, kind) == 1 && offsetof(ags_event_t, size) == 2 &&
                   offsetof(ags_event_t, pid) == 4 && offsetof(ags_event_t, icount) == 8 &&
                   offsetof(ags_event_t, tid) == 12 && offsetof(ags_event_t, addr) == 16 &&
                   offsetof(ags_event_t, len) == 24 && offsetof(ags_event_t, arg) == 32 &&
                   offsetof(ags_event_t, arg2) == 40 && sizeof(ags_event_t) == 48,
               "ags_event_t layout");

/* A LEB128 varint: AGS_OK, or AGS_E_FORMAT when truncated or longer than 64 bits. */
static int agt_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    const uint8_t *p = *pp;
    uint64_t x = 0;
    for (unsigned s = 0; s < 64; s += 7) {
        if (p >= end)
            return AGS_E_FORMAT;
        uint8_t c = *p++;
        x |= (uint64_t)(c & 0x7f) << s;
        if (!(c & 0x80)) {
            *v = x;
            *pp = p;
            return 0;
        }
    }
    return AGS_E_FORMAT; /* too long */
}

/* The fast path's state: the previous addresses, icount and size; n: the events written; the
 * checksum h and the next 8-byte word to fold into it, hp, of the words up to hend (bytes already
 * decoded: a word per record is folded in while the loop decodes, where the checksum's chain of
 * multiplies overlaps the decoding instead of running after it). */
typedef struct {
    uint64_t pa0, pa1;
    uint32_t picnt, psize;
    size_t n;
    uint64_t h;
    const uint8_t *hp, *hend;
} agt_fast_t;

/* An address varint of 5 to 8 bytes in the fast path, without a branch: w holds the 8 bytes
 * from its first byte (little-endian); stop has bit 7 set in every byte that ends a varint
 * (bit 7 clear), and is not 0. The bytes up to the first stop are kept and their 7-bit groups
 * packed pairwise (14 bits in 16, 28 in 32, 56 in 64). */
static inline uint64_t agt_varint8(uint64_t w, uint64_t stop)
{
    uint64_t x = w & (stop ^ (stop - 1)); /* the bytes through the first stop */
    x = (x & 0x007f007f007f007fULL) | ((x >> 1) & 0x3f803f803f803f80ULL);
    x = (x & 0x00003fff00003fffULL) | ((x >> 2) & 0x0fffc0000fffc000ULL);
    return (x & 0x000000000fffffffULL) | ((x >> 4) & 0x00fffffff0000000ULL);
}

/* What an access record's tag says of its size and icount, looked up once per record: bits
 * 0-15 the size when given by the code (8 or 4), bit 16 the icount when given (0 or 1), and
 * flags: the size given, the icount given, a size varint follows, an icount varint follows. */
#define AGT_TI_SIZE 0x20000u
#define AGT_TI_ICNT 0x40000u
#define AGT_TI_SVAR 0x80000u
#define AGT_TI_IVAR 0x100000u
#define AGT_TI(t)                                                                                                      \
    (((t) >> 2 & 3) == AGT_SIZE_8 ? 8u | AGT_TI_SIZE                                                                   \
     : ((t) >> 2 & 3) == AGT_SIZE_4 ? 4u | AGT_TI_SIZE                                                                 \
     : ((t) >> 2 & 3) == AGT_SIZE_VAR ? AGT_TI_SVAR                                                                    \
                                      : 0u) |                                                                          \
        (((t) >> 4 & 3) == AGT_ICNT_0   ? AGT_TI_ICNT                                                                  \
         : ((t) >> 4 & 3) == AGT_ICNT_1 ? 1u << 16 | AGT_TI_ICNT                                                       \
         : ((t) >> 4 & 3) == AGT_ICNT_VAR ? AGT_TI_IVAR                                                                \
                                          : 0u)
#define AGT_TI4(b) AGT_TI(b), AGT_TI((b) + 1), AGT_TI((b) + 2), AGT_TI((b) + 3)
#define AGT_TI16(b) AGT_TI4(b), AGT_TI4((b) + 4), AGT_TI4((b) + 8), AGT_TI4((b) + 12)
static const uint32_t agt_taginfo[64] = { AGT_TI16(0), AGT_TI16(16), AGT_TI16(32), AGT_TI16(48) };
_Static_assert(((AGT_TI_SIZE | AGT_TI_ICNT | AGT_TI_SVAR | AGT_TI_IVAR) & 0x1ffffu) == 0, "tag info flags above the values");

static inline uint64_t agt_load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/* Decode access records from p while the record starts before `safe` (so that its <= 31 bytes are
 * in the buffer), at most `room` of them, into e. Stops at any other record, at a size or icount
 * varint over 2 bytes, at an address varint over 8 bytes and at a non-canonical address: the
 * checked path re-decodes that record from the state left in *f and reports any error.
 * Returns where it stopped. A function of its own, with few live values: in the caller's loop the
 * compiler spilled the state to the stack. */
static inline __attribute__((always_inline)) const uint8_t *agt_fast(const uint8_t *p, const uint8_t *safe, ags_event_t *e,
                                                                     size_t room, agt_fast_t *f, uint32_t pid, uint32_t tid,
                                                                     const unsigned va_bits)
{
    uint64_t pa0 = f->pa0, pa1 = f->pa1, h = f->h;
    uint32_t picnt = f->picnt, psize = f->psize;
    const uint8_t *hp = f->hp, *const hend = f->hend;
    const unsigned shift = 64 - va_bits;
    ags_event_t *const e0 = e;
    /* every access record has at least 2 bytes: stopping before lim writes at most `room` events */
    const uint8_t *lim = (size_t)(safe - p) / 2 > room ? p + 2 * room - 1 : safe;
#if defined(__SSE2__)
    const __m128i ids = _mm_set_epi64x((long long)((uint64_t)tid << 32), (long long)(AGS_EV_ACCESS | (uint64_t)pid << 32));
#else
    const uint64_t id0 = AGS_EV_ACCESS | (uint64_t)pid << 32, id1 = (uint64_t)tid << 32;
#endif
    while (p < lim) {
        unsigned tag = *p;
        if (tag >= 0x40)
            break;
        const uint8_t *q = p + 1;
        uint32_t ti = agt_taginfo[tag];
        /* psize and picnt become this record's size and icount as they are decoded: if the
         * record then goes to the checked path, that path reads them only for code 3 (the
         * previous value), which leaves them unchanged */
        if (ti & AGT_TI_SIZE)
            psize = ti & 0xffff;
        if (ti & AGT_TI_ICNT)
            picnt = ti >> 16 & 1;
        /* the size and icount varints written out (a shared helper returning the next byte cost
         * 4-8% more time: the pointer it returned was not advanced by a constant per branch) */
        if (ti & AGT_TI_SVAR) {
            if (q[0] < 0x80) {
                psize = *q++;
            } else if (q[1] < 0x80) {
                psize = (uint32_t)((q[0] & 0x7f) | q[1] << 7);
                q += 2;
            } else {
                break; /* 3+ bytes: the checked path */
            }
        }
        if (ti & AGT_TI_IVAR) {
            if (q[0] < 0x80) {
                picnt = *q++;
            } else if (q[1] < 0x80) {
                picnt = (uint32_t)((q[0] & 0x7f) | q[1] << 7);
                q += 2;
            } else {
                break; /* 3+ bytes: the checked path */
            }
        }
        /* the address varint, its length by predicted branches on the bits of one 8-byte load
         * (the next record's position does not wait for this record's bytes) */
        uint64_t w = agt_load64(q), v = w & 0x7f;
        unsigned len = 1;
        if (w & 0x80) {
            v |= (w >> 1) & 0x3f80;
            len = 2;
            if (w & 0x8000) {
                v |= (w >> 2) & 0x1fc000;
                len = 3;
                if (w & 0x800000) {
                    v |= (w >> 3) & 0xfe00000;
                    len = 4;
                    if (w & 0x80000000) {
                        uint64_t stop = ~w & 0x8080808080808080ULL;
                        if (!stop) /* over 8 bytes: the checked path */
                            break;
                        v = agt_varint8(w, stop);
                        len = ((unsigned)__builtin_ctzll(stop) >> 3) + 1;
                    }
                }
            }
        }
        /* the previous address is updated only once the record is known good: the checked path
         * re-decodes a bad record from the same state */
        uint64_t addr = ((tag & 3) == AGS_ACC_IFETCH ? pa0 : pa1) + (uint64_t)agt_unzigzag(v);
        if ((uint64_t)((int64_t)(addr << shift) >> shift) != addr) /* not canonical */
            break;
        if ((tag & 3) == AGS_ACC_IFETCH)
            pa0 = addr;
        else
            pa1 = addr;
        q += len;
#if defined(__SSE2__)
        /* {type, kind = 0, size = 0, pid, icount = 0, tid} from a register that holds it, then
         * kind, size and icount over it; {addr, len = 0}; {arg = 0, arg2 = 0} */
        _mm_storeu_si128((__m128i *)(void *)e, ids);
        e->kind = (uint8_t)(tag & 3);
        e->size = (uint16_t)psize;
        e->icount = picnt;
        _mm_storeu_si128((__m128i *)(void *)&e->addr, _mm_cvtsi64_si128((long long)addr));
        _mm_storeu_si128((__m128i *)(void *)&e->arg, _mm_setzero_si128());
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* {type, kind = 0, size = 0, pid} and {icount, tid} as two words, then kind and size */
        uint64_t w1 = id1 | picnt;
        memcpy(&e->type, &id0, 8);
        memcpy(&e->icount, &w1, 8);
        e->kind = (uint8_t)(tag & 3);
        e->size = (uint16_t)psize;
        e->addr = addr;
        e->len = e->arg = e->arg2 = 0;
#else
        *e = (ags_event_t){ .type = AGS_EV_ACCESS, .kind = (uint8_t)(tag & 3), .size = (uint16_t)psize, .pid = pid,
                            .icount = picnt, .tid = tid, .addr = addr };
#endif
        e++;
        p = q;
        if (hp < hend) {
            uint64_t hw;
            memcpy(&hw, hp, 8); /* as agt_hash_update reads a word */
            h = agt_hash_word(h, hw);
            hp += 8;
        }
    }
    f->h = h;
    f->hp = hp;
    f->pa0 = pa0;
    f->pa1 = pa1;
    f->picnt = picnt;
    f->psize = psize;
    f->n = (size_t)(e - e0);
    return p;
}

/* with the address width a constant: the canonical check takes no registers */
static __attribute__((noinline)) const uint8_t *agt_fast48(const uint8_t *p, const uint8_t *safe, ags_event_t *e,
                                                           size_t room, agt_fast_t *f, uint32_t pid, uint32_t tid)
{
    return agt_fast(p, safe, e, room, f, pid, tid, 48);
}
static __attribute__((noinline)) const uint8_t *agt_fast57(const uint8_t *p, const uint8_t *safe, ags_event_t *e,
                                                           size_t room, agt_fast_t *f, uint32_t pid, uint32_t tid)
{
    return agt_fast(p, safe, e, room, f, pid, tid, 57);
}

static void agt_hash_upto(ags_reader_t *r)
{
    uint64_t upto = r->b.base + r->b.pos;
    if (upto > r->hashed) {
        size_t off = (size_t)(r->hashed - r->b.base);
        agt_hash_update(&r->hash, r->b.buf + off, (size_t)(upto - r->hashed));
        r->hashed = upto;
    }
}

/* Read and check the 64-byte header: AGS_OK or an AGS_E_* code (message set). */
int ags_agt_read_header(ags_reader_t *r)
{
    long av = ags_bsrc_need(&r->b, AGT_HEADER_SIZE);
    if (av < 0)
        return (int)av;
    if (av < AGT_HEADER_SIZE) {
        ags_rd_err(r, AGS_E_FORMAT, "truncated .agt header (%ld of %d bytes)", av, AGT_HEADER_SIZE);
        return AGS_E_FORMAT;
    }
    const uint8_t *h = r->b.buf + r->b.pos;
    if (memcmp(h, AGT_MAGIC, 8)) {
        ags_rd_err(r, AGS_E_FORMAT, "bad magic at byte 0: not an .agt file");
        return AGS_E_FORMAT;
    }
    uint32_t ver = (uint32_t)(h[8] | h[9] << 8 | h[10] << 16 | (uint32_t)h[11] << 24);
    if (ver != AGT_VERSION) {
        ags_rd_err(r, AGS_E_FORMAT, "byte 8: .agt version %u, this agilesim reads version %u", ver, AGT_VERSION);
        return AGS_E_FORMAT;
    }
    uint32_t flags = (uint32_t)(h[12] | h[13] << 8 | h[14] << 16 | (uint32_t)h[15] << 24);
    if (flags & ~AGT_FLAG_ZSTD) {
        ags_rd_err(r, AGS_E_FORMAT, "byte 12: unknown .agt flags 0x%x (this agilesim knows 0x%x)", flags, AGT_FLAG_ZSTD);
        return AGS_E_FORMAT;
    }
    for (int i = 48; i < AGT_HEADER_SIZE; i++)
        if (h[i]) {
            ags_rd_err(r, AGS_E_FORMAT, "byte %d: reserved header byte is 0x%02x, not 0", i, h[i]);
            return AGS_E_FORMAT;
        }
    r->count_hint = agt_get_u64le(h + 16);
    r->b.pos += AGT_HEADER_SIZE;
    r->hashed = r->b.base + r->b.pos;
    agt_hash_init(&r->hash);
    return AGS_OK;
}

size_t ags_agt_next(ags_reader_t *r, ags_event_t *out, size_t n)
{
    size_t k = 0;
    while (k < n) {
        if (r->b.len - r->b.pos < 72 && !r->b.eof) {
            agt_hash_upto(r);
            if (ags_bsrc_need(&r->b, 72) < 0)
                return k + ags_rd_err(r, r->b.err, "%s", r->b.msg + strlen(r->b.name) + 2);
        }
        const uint8_t *p = r->b.buf + r->b.pos, *end = r->b.buf + r->b.len;
        /* fast path: accesses with a whole record (<= 31 bytes) guaranteed in the buffer */
        if (end - p > 32) {
            /* the decoded bytes not yet in the checksum, as whole words from a word boundary */
            if (r->hash.ncarry) {
                size_t a = 8 - r->hash.ncarry, have = (size_t)(r->b.base + r->b.pos - r->hashed);
                agt_hash_update(&r->hash, r->b.buf + (r->hashed - r->b.base), a < have ? a : have);
                r->hashed += a < have ? a : have;
            }
            const uint8_t *hp = r->b.buf + (r->hashed - r->b.base);
            agt_fast_t f = { r->prev_addr[0], r->prev_addr[1], r->prev_icount, r->prev_size, 0, r->hash.h, hp,
                             r->hash.ncarry ? hp : hp + ((size_t)(p - hp) & ~(size_t)7) };
            const uint8_t *q = (r->va_bits == 57 ? agt_fast57 : agt_fast48)(p, end - 32, out + k, n - k, &f, r->pid, r->tid);
            r->hash.h = f.h;
            r->hash.total += (uint64_t)(f.hp - hp);
            r->hashed += (uint64_t)(f.hp - hp);
            size_t got = f.n;
            r->prev_addr[0] = f.pa0;
            r->prev_addr[1] = f.pa1;
            r->prev_icount = f.picnt;
            r->prev_size = (uint16_t)f.psize;
            r->records += got;
            k += got;
            p = q;
            r->b.pos = (size_t)(p - r->b.buf);
            if (k == n)
                return k;
        }
        uint64_t off = r->b.base + r->b.pos;
        if (p == end) {
            if (!r->ended)
                return k + ags_rd_err(r, AGS_E_FORMAT, "truncated at byte %llu: no end record", (unsigned long long)off);
            return k;
        }
        if (r->ended)
            return k + ags_rd_err(r, AGS_E_FORMAT, "byte %llu: data after the end record", (unsigned long long)off);
        uint8_t tag = *p++;
        uint64_t v;
        if (tag < 0x80) {
            ags_event_t *e = &out[k];
            unsigned kind = tag & 3, sc = (tag >> 2) & 3, ic = (tag >> 4) & 3;
            if (tag & 0x40)
                return k + ags_rd_err(r, AGS_E_FORMAT, "byte %llu: bad record tag 0x%02x", (unsigned long long)off, tag);
            uint16_t size = sc == AGT_SIZE_8 ? 8 : sc == AGT_SIZE_4 ? 4 : r->prev_size;
            if (sc == AGT_SIZE_VAR) {
                if (agt_varint(&p, end, &v) || v > 65535)
                    goto bad;
                size = (uint16_t)v;
            }
            uint32_t ic_v = ic == AGT_ICNT_0 ? 0 : ic == AGT_ICNT_1 ? 1 : r->prev_icount;
            if (ic == AGT_ICNT_VAR) {
                if (agt_varint(&p, end, &v) || v > UINT32_MAX)
                    goto bad;
                ic_v = (uint32_t)v;
            }
            if (agt_varint(&p, end, &v))
                goto bad;
            unsigned cls = kind != AGS_ACC_IFETCH;
            uint64_t addr = r->prev_addr[cls] + (uint64_t)agt_unzigzag(v);
            r->prev_addr[cls] = addr;
            r->prev_size = size;
            r->prev_icount = ic_v;
            if (!ags_rd_canon(r, addr))
                return k + ags_rd_err(r, AGS_E_NONCANON, "byte %llu: non-canonical address 0x%llx", (unsigned long long)off,
                                    (unsigned long long)addr);
            e->type = AGS_EV_ACCESS;
            e->kind = (uint8_t)kind;
            e->size = size;
            e->pid = r->pid;
            e->icount = ic_v;
            e->tid = r->tid;
            e->addr = addr;
            e->len = e->arg = e->arg2 = 0;
            k++;
        } else if (tag == AGT_TAG_PID) {
            if (agt_varint(&p, end, &v) || v > UINT32_MAX)
                goto bad;
            r->pid = (uint32_t)v;
        } else if (tag == AGT_TAG_TID) {
            if (agt_varint(&p, end, &v) || v > UINT32_MAX)
                goto bad;
            r->tid = (uint32_t)v;
        } else if (tag == AGT_TAG_MARK) {
            if (agt_varint(&p, end, &v) || v == 0 || v > AGS_TRUNC_MAX)
                goto bad;
            r->truncated = (int)v;
        } else if (tag == AGT_TAG_END) {
            uint64_t cnt;
            if (agt_varint(&p, end, &cnt) || end - p < 8)
                goto bad;
            r->b.pos = (size_t)(p - r->b.buf);
            /* the checksum covers every payload byte before the trailer's checksum field */
            agt_hash_upto(r);
            uint64_t want = agt_get_u64le(p), got = agt_hash_final(&r->hash);
            p += 8;
            r->b.pos = (size_t)(p - r->b.buf);
            r->hashed = r->b.base + r->b.pos;
            r->ended = 1;
            if (cnt != r->records)
                return k + ags_rd_err(r, AGS_E_FORMAT, "byte %llu: end record says %llu records, file has %llu", (unsigned long long)off,
                                    (unsigned long long)cnt, (unsigned long long)r->records);
            if (want != got)
                return k + ags_rd_err(r, AGS_E_FORMAT, "checksum mismatch (file says %016llx, content gives %016llx): corrupt trace",
                                    (unsigned long long)want, (unsigned long long)got);
            continue;
        } else if ((tag & 0xf0) == AGT_TAG_EVENT && (tag & 0x0f) < AGS_EV_TYPE_COUNT && (tag & 0x0f) != AGS_EV_ACCESS) {
            uint64_t f[6];
            for (int i = 0; i < 6; i++)
                if (agt_varint(&p, end, &f[i]))
                    goto bad;
            if (f[0] > UINT32_MAX || f[1] > UINT32_MAX)
                goto bad;
            ags_event_t *e = &out[k++];
            memset(e, 0, sizeof(*e));
            e->type = tag & 0x0f;
            e->pid = (uint32_t)f[0];
            e->icount = (uint32_t)f[1];
            e->addr = f[2];
            e->len = f[3];
            e->arg = f[4];
            e->arg2 = f[5];
        } else {
            return k + ags_rd_err(r, AGS_E_FORMAT, "byte %llu: bad record tag 0x%02x", (unsigned long long)off, tag);
        }
        r->b.pos = (size_t)(p - r->b.buf);
        if (tag != AGT_TAG_PID && tag != AGT_TAG_TID && tag != AGT_TAG_MARK)
            r->records++;
        continue;
    bad:
        return k + ags_rd_err(r, AGS_E_FORMAT, "truncated or malformed record at byte %llu (tag 0x%02x)", (unsigned long long)off, tag);
    }
    return k;
}
