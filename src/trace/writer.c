/* Model notes: none — the .agt writer. Plain files get the record count and checksum patched
 * into the header at the end; zstd-compressed files (one zstd stream holding header and
 * records) keep them in the trailer only. Output goes to a temporary name and is renamed when
 * complete. */
#include "agilesim/trace.h"
#include "trace/agt.h"
#include "util.h"
#include "agilesim/error.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define WBUF (1u << 20)

struct ags_writer {
    int fd;
    char path[4096], tmp[4096];
    int zstd;
    ZSTD_CStream *cs;
    uint8_t *buf, *zbuf;
    size_t len, zcap;
    agt_hash_t hash;
    uint64_t records, accesses, instructions;
    uint64_t bytes;                     /* written to the file so far */
    uint64_t prev_addr[2];
    uint16_t prev_size;
    uint32_t prev_icount, pid, tid;
    int pid_set, err;
    int stream;   /* an open descriptor: no rename */
    int seekable; /* a stream into a regular file: the header's counts are patched at the end */
    char msg[4400];
};

static int wfail(ags_writer_t *w, const char *what)
{
    if (!w->err)
        snprintf(w->msg, sizeof(w->msg), "%s: %s: %s", w->path, what, strerror(errno ? errno : EIO));
    w->err = 1;
    return AGS_E_IO;
}

static int write_all(ags_writer_t *w, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = write(w->fd, p, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return wfail(w, "write failed");
        }
        p += r;
        n -= (size_t)r;
        w->bytes += (uint64_t)r;
    }
    return 0;
}

uint64_t ags_writer_bytes(const ags_writer_t *w) { return w->bytes + (w->zstd ? 0 : w->len); }

/* Send bytes to the file (through zstd when asked). */
static int emit(ags_writer_t *w, const uint8_t *p, size_t n, int end)
{
    if (!w->zstd)
        return write_all(w, p, n);
    ZSTD_inBuffer in = { p, n, 0 };
    for (;;) {
        ZSTD_outBuffer out = { w->zbuf, w->zcap, 0 };
        size_t rem = ZSTD_compressStream2(w->cs, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(rem)) {
            snprintf(w->msg, sizeof(w->msg), "%s: zstd: %s", w->path, ZSTD_getErrorName(rem));
            w->err = 1;
            return AGS_E_IO;
        }
        if (out.pos && write_all(w, w->zbuf, out.pos))
            return AGS_E_IO;
        if (end ? rem == 0 : in.pos == in.size)
            return 0;
    }
}

static int flush_buf(ags_writer_t *w)
{
    agt_hash_update(&w->hash, w->buf, w->len);
    int rc = emit(w, w->buf, w->len, 0);
    w->len = 0;
    return rc;
}

static inline uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static void header(ags_writer_t *w, uint8_t *h)
{
    memset(h, 0, AGT_HEADER_SIZE);
    memcpy(h, AGT_MAGIC, 8);
    h[8] = AGT_VERSION;
    h[12] = w->zstd ? AGT_FLAG_ZSTD : 0;
    int trailer_only = w->zstd || (w->stream && !w->seekable);
    agt_put_u64le(h + 16, trailer_only ? 0 : w->records);
    agt_put_u64le(h + 24, trailer_only ? 0 : w->accesses);
    agt_put_u64le(h + 32, trailer_only ? 0 : w->instructions);
}

static int writer_start(ags_writer_t *w, int zstd, ags_writer_t **out, char *err, size_t errlen);

int ags_writer_open(const char *path, int zstd, ags_writer_t **out, char *err, size_t errlen)
{
    *out = NULL;
    ags_writer_t *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "%s: out of memory", path);
        return AGS_E_NOMEM;
    }
    snprintf(w->path, sizeof(w->path), "%s", path);
    if (snprintf(w->tmp, sizeof(w->tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(w->tmp)) {
        snprintf(err, errlen, "%s: path too long", path);
        free(w);
        return AGS_E_INVAL;
    }
    w->fd = mkstemp(w->tmp);
    if (w->fd < 0) {
        snprintf(err, errlen, "%s: cannot write there: %s", path, strerror(errno));
        free(w);
        return AGS_E_IO;
    }
    mode_t um = umask(0);
    umask(um);
    fchmod(w->fd, 0666 & ~um); /* mkstemp makes 0600; a finished trace is an ordinary file */
    return writer_start(w, zstd, out, err, errlen);
}

int ags_writer_open_fd(int fd, const char *name, int zstd, ags_writer_t **out, char *err, size_t errlen)
{
    *out = NULL;
    ags_writer_t *w = calloc(1, sizeof(*w));
    if (!w) {
        close(fd);
        snprintf(err, errlen, "%s: out of memory", name);
        return AGS_E_NOMEM;
    }
    snprintf(w->path, sizeof(w->path), "%s", name);
    w->fd = fd;
    w->stream = 1;
    struct stat st;
    w->seekable = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && lseek(fd, 0, SEEK_CUR) == 0;
    return writer_start(w, zstd, out, err, errlen);
}

static int writer_start(ags_writer_t *w, int zstd, ags_writer_t **out, char *err, size_t errlen)
{
    w->zstd = zstd;
    w->buf = malloc(WBUF + 128);
    if (zstd) {
        w->cs = ZSTD_createCStream();
        w->zcap = ZSTD_CStreamOutSize();
        w->zbuf = malloc(w->zcap);
        if (w->cs)
            ZSTD_CCtx_setParameter(w->cs, ZSTD_c_compressionLevel, 3);
    }
    agt_hash_init(&w->hash);
    uint8_t h[AGT_HEADER_SIZE];
    header(w, h);
    if (!w->buf || (zstd && (!w->cs || !w->zbuf)) || emit(w, h, AGT_HEADER_SIZE, 0)) {
        snprintf(err, errlen, "%s", w->msg[0] ? w->msg : "out of memory");
        ags_writer_close(w, 0, NULL, 0);
        return AGS_E_IO;
    }
    *out = w;
    return 0;
}

int ags_writer_write(ags_writer_t *w, const ags_event_t *ev, size_t n)
{
    if (w->err)
        return AGS_E_IO;
    for (size_t i = 0; i < n; i++) {
        const ags_event_t *e = &ev[i];
        if (w->len >= WBUF && flush_buf(w))
            return AGS_E_IO;
        uint8_t *p = w->buf + w->len;
        if (e->type == AGS_EV_ACCESS) {
            if (!w->pid_set || e->pid != w->pid) {
                *p++ = AGT_TAG_PID;
                p = put_varint(p, e->pid);
                w->pid = e->pid;
                w->pid_set = 1;
            }
            if (AGS_UNLIKELY(e->tid != w->tid)) {
                *p++ = AGT_TAG_TID;
                p = put_varint(p, e->tid);
                w->tid = e->tid;
            }
            unsigned kind = e->kind & 3, cls = kind != AGS_ACC_IFETCH;
            unsigned sc = e->size == 8 ? AGT_SIZE_8 : e->size == 4 ? AGT_SIZE_4 : e->size == w->prev_size ? AGT_SIZE_PREV : AGT_SIZE_VAR;
            unsigned ic = e->icount == 0 ? AGT_ICNT_0 : e->icount == 1 ? AGT_ICNT_1 : e->icount == w->prev_icount ? AGT_ICNT_PREV : AGT_ICNT_VAR;
            *p++ = (uint8_t)(kind | sc << 2 | ic << 4);
            if (sc == AGT_SIZE_VAR)
                p = put_varint(p, e->size);
            if (ic == AGT_ICNT_VAR)
                p = put_varint(p, e->icount);
            p = put_varint(p, agt_zigzag((int64_t)(e->addr - w->prev_addr[cls])));
            w->prev_addr[cls] = e->addr;
            w->prev_size = e->size;
            w->prev_icount = e->icount;
            w->accesses++;
        } else {
            *p++ = (uint8_t)(AGT_TAG_EVENT | (e->type & 0x0f));
            p = put_varint(p, e->pid);
            p = put_varint(p, e->icount);
            p = put_varint(p, e->addr);
            p = put_varint(p, e->len);
            p = put_varint(p, e->arg);
            p = put_varint(p, e->arg2);
        }
        w->instructions += e->icount;
        w->records++;
        w->len = (size_t)(p - w->buf);
    }
    return 0;
}

int ags_writer_mark_truncated(ags_writer_t *w, int why)
{
    if (w->err)
        return AGS_E_IO;
    if (why < 1 || why > AGS_TRUNC_MAX)
        return AGS_E_INVAL;
    if (w->len >= WBUF && flush_buf(w))
        return AGS_E_IO;
    w->buf[w->len++] = AGT_TAG_MARK;
    w->buf[w->len++] = (uint8_t)why;
    return 0;
}

int ags_writer_close(ags_writer_t *w, int commit, char *err, size_t errlen)
{
    int rc = 0;
    if (commit && !w->err) {
        uint8_t *p = w->buf + w->len;
        *p++ = AGT_TAG_END;
        p = put_varint(p, w->records);
        w->len = (size_t)(p - w->buf);
        agt_hash_update(&w->hash, w->buf, w->len);
        uint8_t ck[8];
        agt_put_u64le(ck, agt_hash_final(&w->hash));
        if (emit(w, w->buf, w->len, 0) || emit(w, ck, 8, 1))
            rc = AGS_E_IO;
        if (!rc && !w->zstd && (!w->stream || w->seekable)) {
            uint8_t h[AGT_HEADER_SIZE];
            header(w, h);
            agt_put_u64le(h + 40, agt_get_u64le(ck));
            if (pwrite(w->fd, h, AGT_HEADER_SIZE, 0) != AGT_HEADER_SIZE)
                rc = wfail(w, "write failed");
        }
        if (!rc && !w->stream && fsync(w->fd))
            rc = wfail(w, "write failed");
    } else if (w->err) {
        rc = AGS_E_IO;
    }
    if (close(w->fd) && !rc && commit)
        rc = wfail(w, "write failed");
    if (!w->stream && commit && !rc && rename(w->tmp, w->path))
        rc = wfail(w, "cannot rename the finished file into place");
    if (!w->stream && (!commit || rc))
        unlink(w->tmp);
    if (rc && err)
        snprintf(err, errlen, "%s", w->msg);
    ZSTD_freeCStream(w->cs);
    free(w->buf);
    free(w->zbuf);
    free(w);
    return rc;
}
