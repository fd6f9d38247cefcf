/* Model notes: trace readers decode into the caller's event buffer (no allocation per event).
 * - .agt: records as documented in docs/trace-format.md; the trailer's record count and
 *   checksum are verified at the end.
 * - Valgrind Lackey (--trace-mem=yes, optionally --trace-syscalls=yes): "I  addr,size" is an
 *   instruction fetch and one instruction; " L", " S", " M" are load, store, modify. SYSCALL lines
 *   of mmap, munmap, mprotect, brk and mremap become address-space events (a successful result
 *   only; async calls are completed by their "[async] --> Success" line); a successful clone
 *   (without CLONE_VM), fork or vfork becomes a fork event naming the child, a successful
 *   exit_group an exit event. The process id
 *   comes from the "==PID==" banner. Other system calls are ignored.
 * - pinatrace ("ip: R|W addr"): each line is one memory access by the instruction at ip; an
 *   instruction fetch (3 instructions: roughly one x86 instruction in three accesses memory) is
 *   emitted when ip changes.
 * - ChampSim (64-byte input_instr records): one instruction each: a fetch at ip, a load per
 *   non-zero source address, a store per non-zero destination address (size 8: the format does
 *   not say). One process (pid 1).
 * Addresses must be canonical for 48-bit virtual addresses (57 with ags_reader_set_va_bits). */
#include "agilesim/trace.h"
#include "trace/agt.h"
#include "trace/bsrc.h"
#include "util.h"
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QMAX 16

typedef struct {
    uint32_t pid, tid;
    char name[16];
    uint64_t a[6];
    int used;
} pending_t;

struct ags_reader {
    ags_bsrc_t b;
    ags_format_t fmt;
    int err;
    char msg[320];
    unsigned va_bits;
    /* agt */
    agt_hash_t hash;
    uint64_t hashed;        /* stream offset hashed so far */
    uint64_t records, count_hint;
    uint64_t prev_addr[2];
    uint16_t prev_size;
    uint32_t prev_icount, pid;
    int ended;
    /* text */
    uint64_t line;
    uint32_t lk_pid;
    uint64_t prev_ip;
    pending_t pend[8];
    pending_t cont;         /* a SYSCALL line whose result comes on a " --> " continuation line */
    int lenient;            /* skip (and count) malformed lines instead of failing */
    uint64_t skipped;
    /* queue (one input unit may yield several events) */
    ags_event_t q[QMAX];
    size_t nq, qpos;
};

static const char *const fmt_names[] = { "auto", "agt", "lackey", "pinatrace", "champsim" };
const char *ags_format_name(ags_format_t f) { return (unsigned)f < 5 ? fmt_names[f] : "?"; }
int ags_format_parse(const char *n)
{
    for (int i = 0; i < 5; i++)
        if (!strcmp(n, fmt_names[i]))
            return i;
    return -1;
}

static size_t rerr(ags_reader_t *r, int code, const char *fmt, ...)
{
    if (r->err)
        return 0;
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    snprintf(r->msg, sizeof(r->msg), "%s: %s", r->b.name, tmp);
    r->err = code;
    return 0;
}

static int canon(const ags_reader_t *r, uint64_t a) { return ags_canonical(a, r->va_bits); }

static ags_event_t *qpush(ags_reader_t *r)
{
    ags_event_t *e = &r->q[r->nq++];
    memset(e, 0, sizeof(*e));
    return e;
}

static void qacc(ags_reader_t *r, uint32_t pid, uint64_t addr, unsigned kind, unsigned size, uint32_t icount)
{
    ags_event_t *e = qpush(r);
    e->type = AGS_EV_ACCESS;
    e->kind = (uint8_t)kind;
    e->size = (uint16_t)size;
    e->pid = pid;
    e->icount = icount;
    e->addr = addr;
}

/* ------------------------------------------------------------------ .agt */

static int agt_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    const uint8_t *p = *pp;
    uint64_t x = 0;
    for (unsigned s = 0; s < 64; s += 7) {
        if (p >= end)
            return -1;
        uint8_t c = *p++;
        x |= (uint64_t)(c & 0x7f) << s;
        if (!(c & 0x80)) {
            *v = x;
            *pp = p;
            return 0;
        }
    }
    return -2; /* too long */
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

static int agt_header(ags_reader_t *r)
{
    long av = ags_bsrc_need(&r->b, AGT_HEADER_SIZE);
    if (av < 0)
        return -1;
    if (av < AGT_HEADER_SIZE) {
        rerr(r, -7, "truncated .agt header (%ld of %d bytes)", av, AGT_HEADER_SIZE);
        return -1;
    }
    const uint8_t *h = r->b.buf + r->b.pos;
    if (memcmp(h, AGT_MAGIC, 8)) {
        rerr(r, -7, "bad magic at byte 0: not an .agt file");
        return -1;
    }
    uint32_t ver = (uint32_t)(h[8] | h[9] << 8 | h[10] << 16 | (uint32_t)h[11] << 24);
    if (ver != AGT_VERSION) {
        rerr(r, -7, "byte 8: .agt version %u, this agilesim reads version %u", ver, AGT_VERSION);
        return -1;
    }
    r->count_hint = agt_get_u64le(h + 16);
    r->b.pos += AGT_HEADER_SIZE;
    r->hashed = r->b.base + r->b.pos;
    agt_hash_init(&r->hash);
    return 0;
}

static size_t agt_next(ags_reader_t *r, ags_event_t *out, size_t n)
{
    size_t k = 0;
    while (k < n) {
        if (r->b.len - r->b.pos < 72 && !r->b.eof) {
            agt_hash_upto(r);
            if (ags_bsrc_need(&r->b, 72) < 0)
                return k + rerr(r, -7, "%s", r->b.msg + strlen(r->b.name) + 2);
        }
        const uint8_t *p = r->b.buf + r->b.pos, *end = r->b.buf + r->b.len;
        /* fast path: accesses with a whole record (<= 31 bytes) guaranteed in the buffer */
        {
            const uint8_t *safe = end - 32;
            uint64_t pa0 = r->prev_addr[0], pa1 = r->prev_addr[1];
            uint32_t pid = r->pid, picnt = r->prev_icount;
            uint16_t psize = r->prev_size;
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
                uint64_t addr;
                if (kind == AGS_ACC_IFETCH)
                    addr = pa0 += (uint64_t)agt_unzigzag(v);
                else
                    addr = pa1 += (uint64_t)agt_unzigzag(v);
                if (!ags_canonical(addr, r->va_bits))
                    goto slow;
                ags_event_t *e = &out[k++];
                e->type = AGS_EV_ACCESS;
                e->kind = (uint8_t)kind;
                e->size = size;
                e->pid = pid;
                e->icount = icn;
                e->pad = 0;
                e->addr = addr;
                e->len = e->arg = e->arg2 = 0;
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
                return k + rerr(r, -7, "truncated at byte %llu: no end record", (unsigned long long)off);
            return k;
        }
        if (r->ended)
            return k + rerr(r, -7, "byte %llu: data after the end record", (unsigned long long)off);
        uint8_t tag = *p++;
        uint64_t v;
        if (tag < 0x80) {
            ags_event_t *e = &out[k];
            unsigned kind = tag & 3, sc = (tag >> 2) & 3, ic = (tag >> 4) & 3;
            if (tag & 0x40)
                return k + rerr(r, -7, "byte %llu: bad record tag 0x%02x", (unsigned long long)off, tag);
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
            if (!canon(r, addr))
                return k + rerr(r, -3, "byte %llu: non-canonical address 0x%llx", (unsigned long long)off,
                                    (unsigned long long)addr);
            e->type = AGS_EV_ACCESS;
            e->kind = (uint8_t)kind;
            e->size = size;
            e->pid = r->pid;
            e->icount = ic_v;
            e->pad = 0;
            e->addr = addr;
            e->len = e->arg = e->arg2 = 0;
            k++;
        } else if (tag == AGT_TAG_PID) {
            if (agt_varint(&p, end, &v) || v > UINT32_MAX)
                goto bad;
            r->pid = (uint32_t)v;
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
                return k + rerr(r, -7, "byte %llu: end record says %llu records, file has %llu", (unsigned long long)off,
                                    (unsigned long long)cnt, (unsigned long long)r->records);
            if (want != got)
                return k + rerr(r, -7, "checksum mismatch (file says %016llx, content gives %016llx): corrupt trace",
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
            return k + rerr(r, -7, "byte %llu: bad record tag 0x%02x", (unsigned long long)off, tag);
        }
        r->b.pos = (size_t)(p - r->b.buf);
        if (tag != AGT_TAG_PID)
            r->records++;
        continue;
    bad:
        return k + rerr(r, -7, "truncated or malformed record at byte %llu (tag 0x%02x)", (unsigned long long)off, tag);
    }
    return k;
}

/* ------------------------------------------------------------------ text helpers */

/* Next line as [s, e) without the newline; 0 at the end, -1 on error. */
static int next_line(ags_reader_t *r, const char **s, const char **e)
{
    for (;;) {
        const char *p = (const char *)r->b.buf + r->b.pos, *end = (const char *)r->b.buf + r->b.len;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl) {
            *s = p;
            *e = nl;
            r->b.pos = (size_t)(nl + 1 - (const char *)r->b.buf);
            r->line++;
            return 1;
        }
        if (r->b.eof) {
            if (p == end)
                return 0;
            *s = p;
            *e = end;
            r->b.pos = r->b.len;
            r->line++;
            return 1;
        }
        if ((size_t)(end - p) > (1u << 20))
            return rerr(r, -7, "line %llu: longer than 1 MiB", (unsigned long long)r->line + 1), -1;
        if (ags_bsrc_need(&r->b, (size_t)(end - p) + 4096) < 0)
            return rerr(r, -7, "%s", r->b.msg + strlen(r->b.name) + 2), -1;
    }
}

static int hexval(int c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; }

/* hex number (optional 0x); returns pointer after it or NULL */
static const char *parse_hex(const char *p, const char *e, uint64_t *v)
{
    if (e - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    uint64_t x = 0;
    int n = 0, d;
    while (p < e && (d = hexval((unsigned char)*p)) >= 0) {
        if (n++ == 16)
            return NULL;
        x = x << 4 | (uint64_t)d;
        p++;
    }
    if (!n)
        return NULL;
    *v = x;
    return p;
}

static const char *parse_dec(const char *p, const char *e, uint64_t *v)
{
    uint64_t x = 0;
    int n = 0;
    while (p < e && *p >= '0' && *p <= '9') {
        if (x > (UINT64_MAX - 9) / 10)
            return NULL;
        x = x * 10 + (uint64_t)(*p - '0');
        p++;
        n++;
    }
    if (!n)
        return NULL;
    *v = x;
    return p;
}

/* a number as Valgrind prints syscall arguments: 0x... hex or decimal */
static const char *parse_num(const char *p, const char *e, uint64_t *v)
{
    while (p < e && *p == ' ')
        p++;
    if (e - p > 2 && p[0] == '0' && p[1] == 'x')
        return parse_hex(p, e, v);
    return parse_dec(p, e, v);
}

static const char *find(const char *s, const char *e, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = s; p + n <= e; p++)
        if (*p == *needle && !memcmp(p, needle, n))
            return p;
    return NULL;
}

/* ------------------------------------------------------------------ Lackey */

static void lk_syscall_event(ags_reader_t *r, uint32_t pid, const char *name, const uint64_t *a, uint64_t res)
{
    ags_event_t *e;
    if (!strcmp(name, "mmap")) {
        e = qpush(r), e->type = AGS_EV_MMAP, e->addr = res, e->len = a[1], e->arg = a[2] & 7;
    } else if (!strcmp(name, "munmap")) {
        e = qpush(r), e->type = AGS_EV_MUNMAP, e->addr = a[0], e->len = a[1];
    } else if (!strcmp(name, "mprotect")) {
        e = qpush(r), e->type = AGS_EV_MPROTECT, e->addr = a[0], e->len = a[1], e->arg = a[2] & 7;
    } else if (!strcmp(name, "brk")) {
        e = qpush(r), e->type = AGS_EV_BRK, e->addr = res;
    } else if (!strcmp(name, "mremap")) {
        e = qpush(r), e->type = AGS_EV_MREMAP, e->addr = a[0], e->len = a[1], e->arg = res, e->arg2 = a[2];
    } else if (!strcmp(name, "clone") || !strcmp(name, "fork") || !strcmp(name, "vfork")) {
        /* a new process (a clone sharing the address space, CLONE_VM, is a thread: ignored) */
        if (!res || res > UINT32_MAX || (!strcmp(name, "clone") && (a[0] & 0x100)))
            return;
        e = qpush(r), e->type = AGS_EV_FORK, e->arg = res;
    } else {
        return;
    }
    e->pid = pid;
}

static int lk_syscall(ags_reader_t *r, const char *s, const char *e)
{
    /* SYSCALL[pid,tid](nr) sys_NAME ( a, b, ... ) --> ... Success(0xRES)
     * SYSCALL[pid,tid](nr) ... [async] --> Success(0xRES) */
    uint64_t pid, tid;
    const char *p = s + 8;
    if (!(p = parse_dec(p, e, &pid)) || p >= e || *p != ',' || !(p = parse_dec(p + 1, e, &tid)) || p >= e || *p != ']')
        return rerr(r, -7, "line %llu: malformed SYSCALL line", (unsigned long long)r->line), -1;
    if (pid > UINT32_MAX)
        return rerr(r, -7, "line %llu: pid out of range", (unsigned long long)r->line), -1;
    const char *succ = find(p, e, "Success(");
    const char *failed = find(p, e, "Failure(");
    uint64_t res = 0;
    if (succ && !parse_hex(succ + 8, e, &res))
        return rerr(r, -7, "line %llu: malformed Success(...) result", (unsigned long long)r->line), -1;
    if (find(p, e, ") exit_group(") && succ) { /* the process ends */
        ags_event_t *x = qpush(r);
        x->type = AGS_EV_EXIT;
        x->pid = (uint32_t)pid;
        return 0;
    }
    const char *nm = find(p, e, " sys_");
    if (!nm) { /* completion of an async call */
        if (!find(p, e, "[async]"))
            return 0;
        for (int i = 0; i < 8; i++)
            if (r->pend[i].used && r->pend[i].pid == pid && r->pend[i].tid == tid) {
                r->pend[i].used = 0;
                if (succ)
                    lk_syscall_event(r, (uint32_t)pid, r->pend[i].name, r->pend[i].a, res);
                return 0;
            }
        return 0;
    }
    nm += 5;
    char name[16];
    size_t nl = 0;
    while (nm + nl < e && (isalnum((unsigned char)nm[nl]) || nm[nl] == '_') && nl < sizeof(name) - 1)
        nl++;
    memcpy(name, nm, nl);
    name[nl] = 0;
    if (strcmp(name, "mmap") && strcmp(name, "munmap") && strcmp(name, "mprotect") && strcmp(name, "brk") &&
        strcmp(name, "mremap") && strcmp(name, "clone") && strcmp(name, "fork") && strcmp(name, "vfork"))
        return 0;
    uint64_t a[6] = { 0 };
    const char *ap = find(nm + nl, e, "(");
    if (!ap)
        return rerr(r, -7, "line %llu: sys_%s without arguments", (unsigned long long)r->line, name), -1;
    ap++;
    for (int i = 0; i < 6; i++) {
        const char *q = parse_num(ap, e, &a[i]);
        if (!q)
            break;
        while (q < e && *q == ' ')
            q++;
        if (q < e && *q == ',')
            ap = q + 1;
        else
            break;
    }
    if (succ) {
        lk_syscall_event(r, (uint32_t)pid, name, a, res);
    } else if (!failed && !find(p, e, "[async]")) { /* result on the next " --> " line */
        r->cont.used = 1;
        r->cont.pid = (uint32_t)pid;
        r->cont.tid = (uint32_t)tid;
        memcpy(r->cont.name, name, sizeof(name));
        memcpy(r->cont.a, a, sizeof(a));
    } else if (!failed && find(p, e, "[async]")) {
        for (int i = 0; i < 8; i++)
            if (!r->pend[i].used) {
                pending_t *pd = &r->pend[i];
                pd->used = 1;
                pd->pid = (uint32_t)pid;
                pd->tid = (uint32_t)tid;
                memcpy(pd->name, name, sizeof(name));
                memcpy(pd->a, a, sizeof(a));
                break;
            }
    }
    return 0;
}

/* Readers that turn one input unit (a line, a record) into up to QMAX queued events share this
 * driver. A unit function returns 1 to go on, 0 at the end, -1 on an error (set by rerr). */
typedef int (*unit_fn)(ags_reader_t *r);

static size_t queued_next(ags_reader_t *r, ags_event_t *out, size_t n, unit_fn unit)
{
    size_t k = 0;
    while (k < n) {
        if (r->qpos < r->nq) {
            out[k++] = r->q[r->qpos++];
            continue;
        }
        r->nq = r->qpos = 0;
        if (unit(r) <= 0)
            return k;
    }
    return k;
}

#define UERR(...) (rerr(__VA_ARGS__), -1)

/* The next text line without its line ending; 0 at the end, -1 on error. */
static int text_line(ags_reader_t *r, const char **s, const char **e)
{
    int rc = next_line(r, s, e);
    if (rc > 0 && *e > *s && (*e)[-1] == '\r')
        --*e;
    return rc;
}

static int lackey_unit(ags_reader_t *r)
{
    const char *s, *e;
    int rc = text_line(r, &s, &e);
    if (rc <= 0)
        return rc;
    size_t len = (size_t)(e - s);
    unsigned kind;
    const char *p;
    if (len >= 3 && s[0] == 'I' && s[1] == ' ' && s[2] == ' ') {
        kind = AGS_ACC_IFETCH;
        p = s + 3;
    } else if (len >= 3 && s[0] == ' ' && s[2] == ' ' && (s[1] == 'L' || s[1] == 'S' || s[1] == 'M')) {
        kind = s[1] == 'L' ? AGS_ACC_LOAD : s[1] == 'S' ? AGS_ACC_STORE : AGS_ACC_MODIFY;
        p = s + 3;
    } else if (len >= 2 && s[0] == '=' && s[1] == '=') {
        uint64_t pid;
        if (!r->lk_pid && parse_dec(s + 2, e, &pid) && pid && pid <= UINT32_MAX)
            r->lk_pid = (uint32_t)pid;
        return 1;
    } else if (len >= 8 && !memcmp(s, "SYSCALL[", 8)) {
        return lk_syscall(r, s, e) ? -1 : 1;
    } else if (len >= 5 && !memcmp(s, " --> ", 5)) { /* the result line of a multi-line SYSCALL */
        const char *succ = find(s, e, "Success(");
        uint64_t res;
        if (r->cont.used && succ && parse_hex(succ + 8, e, &res))
            lk_syscall_event(r, r->cont.pid, r->cont.name, r->cont.a, res);
        r->cont.used = 0;
        return 1;
    } else if (len == 0 || (len >= 2 && ((s[0] == '-' && s[1] == '-') || (s[0] == '*' && s[1] == '*')))) {
        return 1; /* valgrind's own messages */
    } else if (r->lenient) {
        r->skipped++;
        return 1;
    } else {
        return UERR(r, -7, "line %llu: expected 'I  addr,size', ' L|S|M addr,size' or a SYSCALL line",
                    (unsigned long long)r->line);
    }
    uint64_t addr = 0, size = 0;
    const char *q = parse_hex(p, e, &addr);
    int well = q && q < e && *q == ',' && (q = parse_dec(q + 1, e, &size)) != NULL && q == e && size > 0 &&
               size <= 65535;
    if (!well || !canon(r, addr)) {
        if (r->lenient) {
            r->skipped++;
            return 1;
        }
        if (!well)
            return UERR(r, -7, "line %llu: expected hex address, comma, decimal size", (unsigned long long)r->line);
        return UERR(r, -3, "line %llu: non-canonical address 0x%llx", (unsigned long long)r->line,
                    (unsigned long long)addr);
    }
    qacc(r, r->lk_pid ? r->lk_pid : 1, addr, kind, (unsigned)size, kind == AGS_ACC_IFETCH);
    return 1;
}

/* ------------------------------------------------------------------ pinatrace */

static int pina_unit(ags_reader_t *r)
{
    const char *s, *e;
    int rc = text_line(r, &s, &e);
    if (rc <= 0)
        return rc;
    if (s == e || *s == '#')
        return 1;
    uint64_t ip, addr;
    const char *p = parse_hex(s, e, &ip);
    if (!p || e - p < 4 || p[0] != ':' || p[1] != ' ' || (p[2] != 'R' && p[2] != 'W') || p[3] != ' ')
        return UERR(r, -7, "line %llu: expected 'ip: R|W addr'", (unsigned long long)r->line);
    unsigned kind = p[2] == 'R' ? AGS_ACC_LOAD : AGS_ACC_STORE;
    const char *q = parse_hex(p + 4, e, &addr);
    if (!q || q != e)
        return UERR(r, -7, "line %llu: expected a hex address after R/W", (unsigned long long)r->line);
    if (!canon(r, addr) || !canon(r, ip))
        return UERR(r, -3, "line %llu: non-canonical address 0x%llx", (unsigned long long)r->line,
                    (unsigned long long)(canon(r, addr) ? ip : addr));
    if (ip != r->prev_ip) {
        qacc(r, 1, ip, AGS_ACC_IFETCH, 4, 3);
        r->prev_ip = ip;
    }
    qacc(r, 1, addr, kind, 8, 0);
    return 1;
}

/* ------------------------------------------------------------------ ChampSim */

static int champsim_unit(ags_reader_t *r)
{
    long av = ags_bsrc_need(&r->b, 64);
    if (av < 0)
        return UERR(r, -7, "%s", r->b.msg + strlen(r->b.name) + 2);
    if (av == 0)
        return 0;
    uint64_t off = r->b.base + r->b.pos;
    if (av < 64)
        return UERR(r, -7, "truncated record at byte %llu (%ld of 64 bytes)", (unsigned long long)off, av);
    const uint8_t *p = r->b.buf + r->b.pos;
    r->b.pos += 64;
    uint64_t ip = agt_get_u64le(p);
    if (!canon(r, ip))
        return UERR(r, -3, "record at byte %llu: non-canonical ip 0x%llx", (unsigned long long)off, (unsigned long long)ip);
    qacc(r, 1, ip, AGS_ACC_IFETCH, 4, 1);
    /* src_mem[4] at offset 32: loads; dst_mem[2] at offset 16: stores */
    static const struct { unsigned off, n, kind; } mem[2] = { { 32, 4, AGS_ACC_LOAD }, { 16, 2, AGS_ACC_STORE } };
    for (int m = 0; m < 2; m++)
        for (unsigned i = 0; i < mem[m].n; i++) {
            uint64_t a = agt_get_u64le(p + mem[m].off + 8 * i);
            if (!a)
                continue;
            if (!canon(r, a))
                return UERR(r, -3, "record at byte %llu: non-canonical address 0x%llx", (unsigned long long)off,
                            (unsigned long long)a);
            qacc(r, 1, a, mem[m].kind, 8, 0);
        }
    return 1;
}

/* ------------------------------------------------------------------ open / dispatch */

static ags_format_t detect(ags_reader_t *r)
{
    long av = ags_bsrc_need(&r->b, 512);
    if (av <= 0)
        return AGS_FMT_AUTO;
    const char *p = (const char *)r->b.buf + r->b.pos;
    if (av >= 8 && !memcmp(p, AGT_MAGIC, 8))
        return AGS_FMT_AGT;
    /* text? */
    long printable = 0;
    for (long i = 0; i < av; i++)
        printable += isprint((unsigned char)p[i]) || p[i] == '\n' || p[i] == '\r' || p[i] == '\t';
    if (printable == av) {
        if (av >= 2 && (!memcmp(p, "==", 2) || !memcmp(p, "I  ", 3) || !memcmp(p, " L ", 3) || !memcmp(p, " S ", 3) ||
                        !memcmp(p, " M ", 3) || !memcmp(p, "--", 2) || (av >= 8 && !memcmp(p, "SYSCALL[", 8))))
            return AGS_FMT_LACKEY;
        if (av >= 2 && (p[0] == '#' || (p[0] == '0' && p[1] == 'x')))
            return AGS_FMT_PINATRACE;
        return AGS_FMT_AUTO;
    }
    /* binary and not .agt by its magic: ChampSim, unless the file is named as an .agt (then the
     * header check can say what is wrong with it) */
    size_t nl = strlen(r->b.name);
    if ((nl > 4 && !strcmp(r->b.name + nl - 4, ".agt")) || (nl > 8 && !strcmp(r->b.name + nl - 8, ".agt.zst")))
        return AGS_FMT_AGT;
    return AGS_FMT_CHAMPSIM;
}

static int reader_open(const char *path, int fd, ags_format_t fmt, ags_reader_t **out, char *err, size_t errlen)
{
    *out = NULL;
    ags_reader_t *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -2;
    }
    r->va_bits = 48;
    if (fd >= 0 ? ags_bsrc_open_fd(&r->b, fd, path) : ags_bsrc_open(&r->b, path)) {
        snprintf(err, errlen, "%s", r->b.msg);
        ags_reader_close(r);
        return -6;
    }
    if (fmt == AGS_FMT_AUTO) {
        fmt = detect(r);
        if (r->b.err) {
            snprintf(err, errlen, "%s", r->b.msg);
            ags_reader_close(r);
            return -7;
        }
        if (fmt == AGS_FMT_AUTO) {
            if (r->b.len == r->b.pos)
                snprintf(err, errlen, "%s: empty trace", r->b.name);
            else
                snprintf(err, errlen, "%s: unknown trace format (not .agt, Lackey, pinatrace or ChampSim); "
                                      "name it with --format", r->b.name);
            ags_reader_close(r);
            return -7;
        }
    }
    r->fmt = fmt;
    if (fmt == AGS_FMT_AGT && agt_header(r)) {
        snprintf(err, errlen, "%s", r->msg[0] ? r->msg : r->b.msg);
        ags_reader_close(r);
        return -7;
    }
    *out = r;
    return 0;
}

int ags_reader_open(const char *path, ags_format_t fmt, ags_reader_t **out, char *err, size_t errlen)
{
    return reader_open(path, -1, fmt, out, err, errlen);
}

int ags_reader_open_fd(int fd, const char *name, ags_format_t fmt, ags_reader_t **out, char *err, size_t errlen)
{
    return reader_open(name, fd, fmt, out, err, errlen);
}

size_t ags_reader_next(ags_reader_t *r, ags_event_t *buf, size_t n)
{
    if (r->err)
        return 0;
    switch (r->fmt) {
    case AGS_FMT_AGT: return agt_next(r, buf, n);
    case AGS_FMT_LACKEY: return queued_next(r, buf, n, lackey_unit);
    case AGS_FMT_PINATRACE: return queued_next(r, buf, n, pina_unit);
    case AGS_FMT_CHAMPSIM: return queued_next(r, buf, n, champsim_unit);
    default: return 0;
    }
}

int ags_reader_error(const ags_reader_t *r, const char **msg)
{
    if (r->err) {
        *msg = r->msg;
        return r->err;
    }
    if (r->b.err) {
        *msg = r->b.msg;
        return -7;
    }
    *msg = "";
    return 0;
}

ags_format_t ags_reader_format(const ags_reader_t *r) { return r->fmt; }

void ags_reader_progress(const ags_reader_t *r, uint64_t *done, uint64_t *total)
{
    *done = r->b.file_read;
    *total = r->b.file_size;
}

uint64_t ags_reader_count_hint(const ags_reader_t *r) { return r->count_hint; }
void ags_reader_set_lenient(ags_reader_t *r, int on) { r->lenient = on; }
void ags_reader_set_va_bits(ags_reader_t *r, unsigned bits) { r->va_bits = bits == 57 ? 57 : 48; }
uint64_t ags_reader_skipped(const ags_reader_t *r) { return r->skipped; }

void ags_reader_close(ags_reader_t *r)
{
    if (!r)
        return;
    ags_bsrc_close(&r->b);
    free(r);
}
