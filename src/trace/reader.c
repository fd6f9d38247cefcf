/* Model notes: trace readers decode into the caller's event buffer (no allocation per event).
 * This file opens a source, detects its format from the content, and dispatches to the decoder
 * of each format (read_*.c). Addresses must be canonical for 48-bit virtual addresses (57 with
 * ags_reader_set_va_bits). */
#include "trace/reader_impl.h"
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fmt_names[] = { "auto", "agt", "lackey", "pinatrace", "champsim" };
const char *ags_format_name(ags_format_t f) { return (unsigned)f < 5 ? fmt_names[f] : "?"; }
int ags_format_parse(const char *n)
{
    for (int i = 0; i < 5; i++)
        if (!strcmp(n, fmt_names[i]))
            return i;
    return -1; /* not a format (documented in trace.h) */
}

size_t ags_rd_err(ags_reader_t *r, int code, const char *fmt, ...)
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

ags_event_t *ags_rd_qpush(ags_reader_t *r)
{
    ags_event_t *e = &r->q[r->nq++];
    memset(e, 0, sizeof(*e));
    return e;
}

void ags_rd_qacc(ags_reader_t *r, uint32_t pid, uint64_t addr, unsigned kind, unsigned size, uint32_t icount)
{
    ags_event_t *e = ags_rd_qpush(r);
    e->type = AGS_EV_ACCESS;
    e->kind = (uint8_t)kind;
    e->size = (uint16_t)size;
    e->pid = pid;
    e->icount = icount;
    e->addr = addr;
}

/* Readers that turn one input unit (a line, a record) into up to QMAX queued events share this
 * driver. A unit function returns 1 to go on, 0 at the end, -1 on an error (set by rerr). */
typedef int (*ags_unit_fn)(ags_reader_t *r);

size_t ags_rd_queued_next(ags_reader_t *r, ags_event_t *out, size_t n, ags_unit_fn unit)
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
            return ags_rd_err(r, AGS_E_FORMAT, "line %llu: longer than 1 MiB", (unsigned long long)r->line + 1), AGS_UNIT_ERR;
        if (ags_bsrc_need(&r->b, (size_t)(end - p) + 4096) < 0)
            return ags_rd_err(r, r->b.err, "%s", r->b.msg + strlen(r->b.name) + 2), AGS_UNIT_ERR;
    }
}

static int hexval(int c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; }

/* hex number (optional 0x); returns pointer after it or NULL */
const char *ags_rd_parse_hex(const char *p, const char *e, uint64_t *v)
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

const char *ags_rd_parse_dec(const char *p, const char *e, uint64_t *v)
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


const char *ags_rd_find(const char *s, const char *e, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = s; p + n <= e; p++)
        if (*p == *needle && !memcmp(p, needle, n))
            return p;
    return NULL;
}
/* The next text line without its line ending; 0 at the end, -1 on error. */
int ags_rd_text_line(ags_reader_t *r, const char **s, const char **e)
{
    int rc = next_line(r, s, e);
    if (rc > 0 && *e > *s && (*e)[-1] == '\r')
        --*e;
    return rc;
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
    /* text: the first line decides (a NUL, DEL or UTF-8 byte later on is the reader's to report,
     * with its line number) */
    const char *nl = memchr(p, '\n', (size_t)av);
    size_t l = nl ? (size_t)(nl - p) : (size_t)av;
    int text = 1, nul = 0;
    for (size_t i = 0; i < l; i++)
        text &= (unsigned char)p[i] >= 0x20 || p[i] == '\t' || p[i] == '\r';
    for (long i = 0; i < av; i++)
        nul |= p[i] == 0;
    if (text) {
        int d1 = l > 2 && isdigit((unsigned char)p[2]), x3 = l > 3 && isxdigit((unsigned char)p[3]);
        if ((l > 2 && !memcmp(p, "==", 2) && d1) || (l > 2 && !memcmp(p, "--", 2) && d1) ||
            (l > 3 && !memcmp(p, "I  ", 3) && x3) ||
            (l > 3 && p[0] == ' ' && (p[1] == 'L' || p[1] == 'S' || p[1] == 'M') && p[2] == ' ' && x3) ||
            (l >= 8 && !memcmp(p, "SYSCALL[", 8)))
            return AGS_FMT_LACKEY;
        if (l && p[0] == '#' && !nul)
            return AGS_FMT_PINATRACE;
        if (l > 3 && p[0] == '0' && p[1] == 'x' && isxdigit((unsigned char)p[2])) {
            const char *c = memchr(p, ':', l);
            if (c && c + 2 < p + l && c[1] == ' ' && (c[2] == 'R' || c[2] == 'W'))
                return AGS_FMT_PINATRACE;
        }
        if (!nul)
            return AGS_FMT_AUTO; /* text, but no format we know */
    }
    /* binary and not .agt by its magic: ChampSim, unless the file is named as an .agt (then the
     * header check can say what is wrong with it) */
    size_t nlen = strlen(r->b.name);
    if ((nlen > 4 && !strcmp(r->b.name + nlen - 4, ".agt")) ||
        (nlen > 8 && !strcmp(r->b.name + nlen - 8, ".agt.zst")))
        return AGS_FMT_AGT;
    return AGS_FMT_CHAMPSIM;
}

static int reader_open(const char *path, int fd, ags_format_t fmt, ags_reader_t **out, char *err, size_t errlen)
{
    *out = NULL;
    ags_reader_t *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "%s: out of memory", path);
        return AGS_E_NOMEM;
    }
    r->va_bits = 48;
    if (fd >= 0 ? ags_bsrc_open_fd(&r->b, fd, path) : ags_bsrc_open(&r->b, path)) {
        snprintf(err, errlen, "%s", r->b.msg);
        int rc = r->b.err;
        ags_reader_close(r);
        return rc;
    }
    if (fmt == AGS_FMT_AUTO) {
        fmt = detect(r);
        if (r->b.err) {
            snprintf(err, errlen, "%s", r->b.msg);
            ags_reader_close(r);
            return AGS_E_FORMAT;
        }
        if (fmt == AGS_FMT_AUTO) {
            if (r->b.len == r->b.pos)
                snprintf(err, errlen, "%s: empty trace", r->b.name);
            else
                snprintf(err, errlen, "%s: unknown trace format (not .agt, Lackey, pinatrace or ChampSim); "
                                      "name it with --format", r->b.name);
            ags_reader_close(r);
            return AGS_E_FORMAT;
        }
    }
    r->fmt = fmt;
    int rc = fmt == AGS_FMT_AGT ? ags_agt_read_header(r) : AGS_OK;
    if (rc) {
        snprintf(err, errlen, "%s", r->msg[0] ? r->msg : r->b.msg);
        ags_reader_close(r);
        return rc;
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
    case AGS_FMT_AGT: return ags_agt_next(r, buf, n);
    case AGS_FMT_LACKEY: return ags_rd_queued_next(r, buf, n, ags_lackey_unit);
    case AGS_FMT_PINATRACE: return ags_rd_queued_next(r, buf, n, ags_pinatrace_unit);
    case AGS_FMT_CHAMPSIM: return ags_rd_queued_next(r, buf, n, ags_champsim_unit);
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
        return r->b.err;
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
uint64_t ags_reader_salvaged(const ags_reader_t *r) { return r->salvaged; }
int ags_reader_truncated(const ags_reader_t *r) { return r->truncated; }
unsigned ags_reader_set_threads(ags_reader_t *r, unsigned n)
{
    if (n > 1 && !r->b.thr)
        ags_bsrc_thread_start(&r->b);
    return r->b.thr ? 2 : 1;
}

int ags_reader_use_mmap(ags_reader_t *r) { return r->b.map || ags_bsrc_map_start(&r->b); }
int ags_reader_maps(const ags_reader_t *r, const void *addr) { return r && ags_bsrc_mapped(&r->b, addr); }

void ags_reader_close(ags_reader_t *r)
{
    if (!r)
        return;
    ags_bsrc_close(&r->b);
    free(r);
}
