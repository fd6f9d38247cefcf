/* Model notes: none — the .agt decoder (docs/trace-format.md). Records decode into the caller's
 * buffer; a fast path handles access records whole in the buffer, the checked path everything
 * else and reports errors. The trailer's record count and checksum are verified at the end. */
#include "trace/reader_impl.h"
#include <string.h>

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
        {
            const uint8_t *safe = end - 32;
            uint64_t pa0 = r->prev_addr[0], pa1 = r->prev_addr[1];
            uint32_t pid = r->pid, tid = r->tid, picnt = r->prev_icount;
            uint16_t psize = r->prev_size;
            const unsigned vshift = 64 - r->va_bits; /* in a local: the byte stores below may alias r */
            ags_event_t *const o = out;
            size_t k0 = k;
            while (k < n && p < safe && *p < 0x40) {
                uint8_t tag = *p;
                const uint8_t *q = p + 1;
                unsigned sc = (tag >> 2) & 3, ic = (tag >> 4) & 3;
                uint64_t v;
                uint16_t size = sc == AGT_SIZE_8 ? 8 : sc == AGT_SIZE_4 ? 4 : psize;
                uint32_t icn = ic == AGT_ICNT_0 ? 0 : ic == AGT_ICNT_1 ? 1 : picnt;
                if (sc == AGT_SIZE_VAR) {
                    if ((q[0] & 0x80) && (q[1] & 0x80)) /* 3+ bytes: checked path */
                        goto slow;
                    size = q[0] & 0x80 ? (uint16_t)((q[0] & 0x7f) | q[1] << 7) : q[0];
                    q += 1 + (q[0] >> 7);
                }
                if (ic == AGT_ICNT_VAR) {
                    if (q[0] < 0x80) {
                        icn = *q++;
                    } else if (q[1] < 0x80) {
                        icn = (uint32_t)((q[0] & 0x7f) | q[1] << 7);
                        q += 2;
                    } else {
                        goto slow;
                    }
                }
                v = *q & 0x7f;
                for (unsigned sh = 7; *q++ & 0x80; sh += 7) {
                    if (sh > 63)
                        goto slow;
                    v |= (uint64_t)(*q & 0x7f) << sh;
                }
                unsigned kind = tag & 3;
                /* the previous address is updated only once the record is known good: the
                 * checked path re-decodes a bad record from the same state */
                uint64_t addr = (kind == AGS_ACC_IFETCH ? pa0 : pa1) + (uint64_t)agt_unzigzag(v);
                if ((uint64_t)((int64_t)(addr << vshift) >> vshift) != addr) /* not canonical */
                    goto slow;
                if (kind == AGS_ACC_IFETCH)
                    pa0 = addr;
                else
                    pa1 = addr;
                /* one struct store: the compiler writes it in wide stores, not field by field */
                o[k++] = (ags_event_t){ .type = AGS_EV_ACCESS, .kind = (uint8_t)kind, .size = size, .pid = pid,
                                        .icount = icn, .tid = tid, .addr = addr };
                psize = size;
                picnt = icn;
                p = q;
            }
            if (0) {
            slow:; /* re-decode this record on the checked path, which reports the error */
            }
            r->prev_addr[0] = pa0;
            r->prev_addr[1] = pa1;
            r->prev_icount = picnt;
            r->prev_size = psize;
            r->records += k - k0;
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
