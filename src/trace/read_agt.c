/* Model notes: none — the .agt decoder (docs/trace-format.md). Records decode into the caller's
 * buffer; a fast path handles access records whole in the buffer, the checked path everything
 * else and reports errors. The trailer's record count and checksum are verified at the end. */
#include "trace/reader_impl.h"
#include <stddef.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* the fast path writes an access event as two 64-bit words and the address: this layout,
 * little-endian (x86) */
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

/* The fast path's state: the previous addresses, icount and size; n: the events written. */
typedef struct {
    uint64_t pa0, pa1;
    uint32_t picnt, psize;
    size_t n;
} agt_fast_t;

/* Decode access records from p while the record starts before `safe` (so that its <= 31 bytes are
 * in the buffer), at most `room` of them, into e. Stops at any other record, at a size or icount
 * varint over 2 bytes, at an address varint over 10 bytes and at a non-canonical address: the
 * checked path re-decodes that record from the state left in *f and reports any error.
 * Returns where it stopped. A function of its own, with few live values: in the caller's loop the
 * compiler spilled the state to the stack. */
static inline __attribute__((always_inline)) const uint8_t *agt_fast(const uint8_t *p, const uint8_t *safe, ags_event_t *e,
                                                                     size_t room, agt_fast_t *f, uint32_t pid, uint32_t tid,
                                                                     const unsigned va_bits)
{
    uint64_t pa0 = f->pa0, pa1 = f->pa1;
    uint32_t picnt = f->picnt, psize = f->psize;
    const uint64_t half = 1ULL << (va_bits - 1), high = ~((1ULL << va_bits) - 1);
    ags_event_t *const e0 = e;
    /* every access record has at least 2 bytes: stopping before lim writes at most `room` events */
    const uint8_t *lim = (size_t)(safe - p) / 2 > room ? p + 2 * room - 1 : safe;
#if defined(__SSE2__)
    const __m128i ids = _mm_set_epi64x((long long)((uint64_t)tid << 32), (long long)(AGS_EV_ACCESS | (uint64_t)pid << 32));
#endif
    while (p < lim) {
        unsigned tag = *p;
        if (tag >= 0x40)
            break;
        const uint8_t *q = p + 1;
        unsigned sc = (tag >> 2) & 3, ic = (tag >> 4) & 3, kind = tag & 3;
        /* size codes 0, 1: 8, 4 bytes; 3: the previous size; 2: a varint */
        uint32_t size = sc == AGT_SIZE_8 ? 8 : sc == AGT_SIZE_4 ? 4 : psize;
        /* icount codes 0, 1: 0, 1 instruction; 3: the previous count; 2: a varint */
        uint32_t icn = ic & 2 ? picnt : ic;
        if (AGS_UNLIKELY(sc == AGT_SIZE_VAR)) {
            if ((q[0] & 0x80) && (q[1] & 0x80)) /* 3+ bytes: checked path */
                break;
            size = q[0] & 0x80 ? (uint32_t)((q[0] & 0x7f) | q[1] << 7) : q[0];
            q += 1 + (q[0] >> 7);
        }
        if (ic == AGT_ICNT_VAR) {
            if (q[0] < 0x80) {
                icn = *q++;
            } else if (q[1] < 0x80) {
                icn = (uint32_t)((q[0] & 0x7f) | q[1] << 7);
                q += 2;
            } else {
                break;
            }
        }
        /* the address varint, unrolled to 4 bytes (shifts by constants, predicted branches:
         * the next record's position does not wait for this record's bytes) */
        uint64_t v = q[0];
        unsigned len = 1;
        if (v & 0x80) {
            v = (v & 0x7f) | (uint64_t)(q[1] & 0x7f) << 7;
            len = 2;
            if (q[1] & 0x80) {
                v |= (uint64_t)(q[2] & 0x7f) << 14;
                len = 3;
                if (q[2] & 0x80) {
                    v |= (uint64_t)(q[3] & 0x7f) << 21;
                    len = 4;
                    if (q[3] & 0x80) {
                        for (unsigned sh = 28;; sh += 7) {
                            if (sh > 63) /* over 10 bytes: the checked path reports it */
                                goto out;
                            v |= (uint64_t)(q[len] & 0x7f) << sh;
                            if (!(q[len++] & 0x80))
                                break;
                        }
                    }
                }
            }
        }
        q += len;
        /* the previous address is updated only once the record is known good: the checked path
         * re-decodes a bad record from the same state */
        uint64_t addr = (kind == AGS_ACC_IFETCH ? pa0 : pa1) + (uint64_t)agt_unzigzag(v);
        if ((addr + half) & high) /* not canonical */
            break;
        if (kind == AGS_ACC_IFETCH)
            pa0 = addr;
        else
            pa1 = addr;
#if defined(__SSE2__)
        /* three 16-byte stores: {type, kind, size, pid | icount, tid}, {addr, len = 0}, {0, 0} */
        __m128i w = _mm_or_si128(ids, _mm_set_epi64x((long long)icn, (long long)(kind << 8 | size << 16)));
        _mm_storeu_si128((__m128i *)(void *)e, w);
        _mm_storeu_si128((__m128i *)(void *)&e->addr, _mm_cvtsi64_si128((long long)addr));
        _mm_storeu_si128((__m128i *)(void *)&e->arg, _mm_setzero_si128());
#else
        *e = (ags_event_t){ .type = AGS_EV_ACCESS, .kind = (uint8_t)kind, .size = (uint16_t)size, .pid = pid,
                            .icount = icn, .tid = tid, .addr = addr };
#endif
        e++;
        psize = size;
        picnt = icn;
        p = q;
    }
out:
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
            agt_fast_t f = { r->prev_addr[0], r->prev_addr[1], r->prev_icount, r->prev_size, 0 };
            const uint8_t *q = (r->va_bits == 57 ? agt_fast57 : agt_fast48)(p, end - 32, out + k, n - k, &f, r->pid, r->tid);
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
