/* Model notes: none — input plumbing. Compressed input is decoded incrementally in 256 KiB
 * steps; a corrupt or truncated compressed stream is an error naming the decoded byte offset. On
 * request (ags_bsrc_thread_start) a compressed regular file is decompressed on a thread of its
 * own, in 1 MiB slots, at most 4 MiB ahead, by the same code: the bytes and the errors are those
 * of the synchronous path, and an error is reported when the reader reaches it. On request
 * (ags_bsrc_map_start) a plain regular file is read through a window of the file mapped into
 * memory instead of read(2) into a buffer: the same bytes, parsed where they lie. */
#ifndef _GNU_SOURCE /* the fuzz build defines it on the command line */
#define _GNU_SOURCE /* MAP_POPULATE */
#endif
#include "trace/bsrc.h"
#include "agilesim/trace.h"
#include "agilesim/error.h"
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#define CHUNK (1u << 18) /* 256 KiB steps; the decoded buffer grows on demand */
#ifndef AGS_ZSTD_WINDOW_LOG_MAX
#define AGS_ZSTD_WINDOW_LOG_MAX 31 /* files made with zstd --long=31; the fuzz build lowers it */
#endif

const char *ags_comp_name(int c)
{
    static const char *n[] = { "none", "gzip", "xz", "zstd" };
    return c >= 0 && c < 4 ? n[c] : "?";
}

/* Record the error (a named AGS_E_* code and a message naming the source); returns the code. */
static volatile sig_atomic_t *g_stop;
void ags_trace_set_stop(volatile sig_atomic_t *flag) { g_stop = flag; }

static int fail(ags_bsrc_t *b, int code, const char *fmt, const char *detail)
{
    snprintf(b->msg, sizeof(b->msg), fmt, b->name, detail);
    b->err = code;
    return code;
}

/* One read(2) of up to `room` bytes into dst, retried on EINTR unless a stop was requested:
 * the byte count (0 at the end of the file), or -1 with the error recorded. */
static ssize_t raw_read(ags_bsrc_t *b, uint8_t *dst, size_t room)
{
    for (;;) {
        ssize_t r = read(b->fd, dst, room);
        if (r >= 0) {
            if (r == 0)
                b->in_eof = 1;
            b->file_read += (uint64_t)r;
            return r;
        }
        if (errno == EINTR && g_stop && *g_stop) {
            fail(b, AGS_E_INTR, "%s: %s", "interrupted");
            return -1;
        }
        if (errno != EINTR) {
            fail(b, AGS_E_IO, "%s: read error: %s", strerror(errno));
            return -1;
        }
    }
}

/* read raw bytes into in[] (keeps the unconsumed tail) */
static int raw_fill(ags_bsrc_t *b)
{
    if (b->in_pos) {
        memmove(b->in, b->in + b->in_pos, b->in_len - b->in_pos);
        b->in_len -= b->in_pos;
        b->in_pos = 0;
    }
    if (b->in_len < b->in_cap && !b->in_eof) {
        ssize_t r = raw_read(b, b->in + b->in_len, b->in_cap - b->in_len);
        if (r < 0)
            return b->err;
        b->in_len += (size_t)r;
    }
    return 0;
}

static int ags_bsrc_start(ags_bsrc_t *b);

int ags_bsrc_open(ags_bsrc_t *b, const char *path)
{
    memset(b, 0, sizeof(*b));
    b->name = path;
    if (!strcmp(path, "-")) {
        b->fd = 0;
        b->name = "<stdin>";
    } else {
        while ((b->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno == EINTR && !(g_stop && *g_stop))
            ; /* a FIFO's open waits for a writer */
        if (b->fd < 0)
            return fail(b, errno == EINTR ? AGS_E_INTR : AGS_E_IO, "%s: cannot open: %s",
                        errno == EINTR ? "interrupted" : strerror(errno));
        b->own_fd = 1;
        struct stat st;
        if (fstat(b->fd, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                return fail(b, AGS_E_IO, "%s: %s", "is a directory"); /* closed by ags_bsrc_close */
            if (S_ISREG(st.st_mode))
                b->file_size = (uint64_t)st.st_size;
        }
    }
    return ags_bsrc_start(b);
}

int ags_bsrc_open_fd(ags_bsrc_t *b, int fd, const char *name)
{
    memset(b, 0, sizeof(*b));
    b->name = name;
    b->fd = fd;
    b->own_fd = 1;
    return ags_bsrc_start(b);
}

static int ags_bsrc_start(ags_bsrc_t *b)
{
    b->in_cap = CHUNK;
    b->cap = 2 * CHUNK;
    b->in = malloc(b->in_cap);
    b->buf = malloc(b->cap);
    if (!b->in || !b->buf)
        return fail(b, AGS_E_NOMEM, "%s: %s", "out of memory");
    if (raw_fill(b))
        return b->err;
    while (b->in_len < 6 && !b->in_eof)
        if (raw_fill(b))
            return b->err;
    const uint8_t *m = b->in;
    if (b->in_len >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
        z_stream *z = calloc(1, sizeof(*z));
        if (!z || inflateInit2(z, 15 + 32) != Z_OK)
            return fail(b, AGS_E_NOMEM, "%s: %s", "cannot start the gzip decoder");
        b->dec = z;
        b->comp = AGS_COMP_GZIP;
    } else if (b->in_len >= 6 && !memcmp(m, "\xfd" "7zXZ\0", 6)) {
        lzma_stream *x = calloc(1, sizeof(*x));
        if (!x)
            return fail(b, AGS_E_NOMEM, "%s: %s", "out of memory");
        lzma_stream init = LZMA_STREAM_INIT;
        *x = init;
        if (lzma_stream_decoder(x, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
            return fail(b, AGS_E_NOMEM, "%s: %s", "cannot start the xz decoder");
        b->dec = x;
        b->comp = AGS_COMP_XZ;
    } else if (b->in_len >= 4 && ((m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) ||
                                  ((m[0] & 0xf0) == 0x50 && m[1] == 0x2a && m[2] == 0x4d && m[3] == 0x18))) {
        /* a zstd frame, or a skippable frame first (pzstd writes one) */
        ZSTD_DStream *d = ZSTD_createDStream();
        if (!d)
            return fail(b, AGS_E_NOMEM, "%s: %s", "cannot start the zstd decoder");
        ZSTD_initDStream(d);
        ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, AGS_ZSTD_WINDOW_LOG_MAX);
        b->dec = d;
        b->comp = AGS_COMP_ZSTD;
    }
    return 0;
}

static void thread_stop(ags_bsrc_t *b);
static void map_drop(ags_bsrc_t *b);

void ags_bsrc_close(ags_bsrc_t *b)
{
    thread_stop(b);
    map_drop(b);
    if (b->comp == AGS_COMP_GZIP && b->dec) {
        inflateEnd(b->dec);
        free(b->dec);
    } else if (b->comp == AGS_COMP_XZ && b->dec) {
        lzma_end(b->dec);
        free(b->dec);
    } else if (b->comp == AGS_COMP_ZSTD && b->dec) {
        ZSTD_freeDStream(b->dec);
    }
    if (b->own_fd)
        close(b->fd);
    free(b->in);
    free(b->buf);
    memset(b, 0, sizeof(*b));
}

/* decode more bytes into buf[len..cap) */
static int decode_more(ags_bsrc_t *b)
{
    if (b->comp == AGS_COMP_NONE) {
        if (b->in_pos == b->in_len) {
            if (b->in_eof) {
                b->eof = 1;
                return 0;
            }
            /* the bytes sniffed at the start are spent: read straight into buf, not through
             * in[] and a copy */
            ssize_t r = raw_read(b, b->buf + b->len, b->cap - b->len);
            if (r < 0)
                return b->err;
            b->len += (size_t)r;
            if (b->in_eof)
                b->eof = 1;
            return 0;
        }
        size_t n = b->in_len - b->in_pos;
        if (n > b->cap - b->len)
            n = b->cap - b->len;
        memcpy(b->buf + b->len, b->in + b->in_pos, n);
        b->len += n;
        b->in_pos += n;
        if (b->in_pos == b->in_len && b->in_eof)
            b->eof = 1;
        return 0;
    }
    if (b->in_pos == b->in_len && !b->in_eof && raw_fill(b))
        return b->err;
    size_t avail_in = b->in_len - b->in_pos, out_room = b->cap - b->len;
    size_t used_in = 0, produced = 0;
    int done = 0;
    char detail[160];
    if (b->comp == AGS_COMP_GZIP) {
        z_stream *z = b->dec;
        z->next_in = b->in + b->in_pos;
        z->avail_in = (uInt)avail_in;
        z->next_out = b->buf + b->len;
        z->avail_out = (uInt)out_room;
        int r = inflate(z, Z_NO_FLUSH);
        used_in = avail_in - z->avail_in;
        produced = out_room - z->avail_out;
        if (r == Z_STREAM_END) {
            done = 1; /* a member ended; another may follow (concatenated gzip) */
            inflateReset(z);
        } else if (r != Z_OK && r != Z_BUF_ERROR) {
            snprintf(detail, sizeof(detail), "corrupt gzip stream at decoded byte %llu (%s)",
                     (unsigned long long)(b->base + b->len + produced), z->msg ? z->msg : "error");
            return fail(b, AGS_E_FORMAT, "%s: %s", detail);
        }
    } else if (b->comp == AGS_COMP_XZ) {
        lzma_stream *x = b->dec;
        x->next_in = b->in + b->in_pos;
        x->avail_in = avail_in;
        x->next_out = b->buf + b->len;
        x->avail_out = out_room;
        lzma_ret r = lzma_code(x, b->in_eof ? LZMA_FINISH : LZMA_RUN);
        used_in = avail_in - x->avail_in;
        produced = out_room - x->avail_out;
        if (r == LZMA_STREAM_END)
            done = 1;
        else if (r == LZMA_MEM_ERROR) {
            snprintf(detail, sizeof(detail), "the xz decoder at decoded byte %llu needs more memory than is available",
                     (unsigned long long)(b->base + b->len + produced));
            return fail(b, AGS_E_NOMEM, "%s: %s", detail);
        } else if (r != LZMA_OK && r != LZMA_BUF_ERROR) {
            snprintf(detail, sizeof(detail), "corrupt xz stream at decoded byte %llu (lzma error %d)",
                     (unsigned long long)(b->base + b->len + produced), (int)r);
            return fail(b, AGS_E_FORMAT, "%s: %s", detail);
        }
    } else {
        ZSTD_inBuffer in = { b->in + b->in_pos, avail_in, 0 };
        ZSTD_outBuffer out = { b->buf + b->len, out_room, 0 };
        size_t r = ZSTD_decompressStream(b->dec, &out, &in);
        used_in = in.pos;
        produced = out.pos;
        if (ZSTD_isError(r) && ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation) {
            /* a frame's window may ask for up to 2 GiB (zstd --long=31), allocated as it starts */
            snprintf(detail, sizeof(detail), "the zstd frame at decoded byte %llu needs a larger window than "
                     "memory allows (up to 2 GiB for zstd --long=31)", (unsigned long long)(b->base + b->len + produced));
            return fail(b, AGS_E_NOMEM, "%s: %s", detail);
        }
        if (ZSTD_isError(r)) {
            snprintf(detail, sizeof(detail), "corrupt zstd stream at decoded byte %llu (%s)",
                     (unsigned long long)(b->base + b->len + produced), ZSTD_getErrorName(r));
            return fail(b, AGS_E_FORMAT, "%s: %s", detail);
        }
        if (r == 0)
            done = 1; /* a frame ended; another may follow */
    }
    b->in_pos += used_in;
    b->len += produced;
    if (done)
        b->stream_end = 1;
    else if (produced || used_in)
        b->stream_end = 0;
    if (b->in_eof && b->in_pos == b->in_len && !produced && b->stream_end) {
        b->eof = 1;
    } else if (!produced && !used_in && b->in_eof && b->in_pos == b->in_len) {
        snprintf(detail, sizeof(detail), "truncated %s stream after %llu decoded bytes", ags_comp_name(b->comp),
                 (unsigned long long)(b->base + b->len));
        return fail(b, AGS_E_FORMAT, "%s: %s", detail);
    }
    return 0;
}

/* ------------------------------------------------------------------ decompression thread */

#define TCHUNK (1u << 20) /* decoded bytes per hand-over */
#define TSLOTS 4u

struct ags_bsrc_thr {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* a slot filled or given back, or quit */
    ags_bsrc_t t;           /* the thread's view: its buffer is a slot; it shares fd, in and dec */
    uint8_t *slot[TSLOTS];
    size_t len[TSLOTS];
    int eof[TSLOTS], err[TSLOTS];
    char msg[TSLOTS][256];
    uint64_t file_read[TSLOTS];
    unsigned head, tail, count; /* filled at head, read at tail; count slots filled */
    size_t toff;            /* bytes of the tail slot handed out (reader side) */
    int quit;
};

static void *thr_main(void *arg)
{
    struct ags_bsrc_thr *h = arg;
    ags_bsrc_t *t = &h->t;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (h->count == TSLOTS && !h->quit)
            pthread_cond_wait(&h->cv, &h->mu);
        if (h->quit)
            break;
        unsigned i = h->head;
        pthread_mutex_unlock(&h->mu);
        t->buf = h->slot[i];
        t->cap = TCHUNK;
        t->len = t->pos = 0;
        while (t->len < t->cap && !t->eof && !t->err)
            decode_more(t); /* as ags_bsrc_need would: the same offsets in every message */
        pthread_mutex_lock(&h->mu);
        h->len[i] = t->len;
        h->eof[i] = t->eof;
        h->err[i] = t->err;
        memcpy(h->msg[i], t->msg, sizeof(h->msg[i]));
        h->file_read[i] = t->file_read;
        t->base += t->len;
        h->head = (i + 1) % TSLOTS;
        h->count++;
        pthread_cond_broadcast(&h->cv);
        if (t->eof || t->err)
            break; /* nothing follows an end or an error */
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

int ags_bsrc_thread_start(ags_bsrc_t *b)
{
    /* file_size is set for regular files opened by name only: never a pipe */
    if (b->thr || b->comp == AGS_COMP_NONE || !b->file_size || b->eof || b->err)
        return 0;
    struct ags_bsrc_thr *h = calloc(1, sizeof(*h));
    uint8_t *mem = malloc((size_t)TSLOTS * TCHUNK);
    if (!h || !mem || pthread_mutex_init(&h->mu, NULL)) {
        free(h);
        free(mem);
        return 0;
    }
    if (pthread_cond_init(&h->cv, NULL)) {
        pthread_mutex_destroy(&h->mu);
        free(h);
        free(mem);
        return 0;
    }
    for (unsigned i = 0; i < TSLOTS; i++)
        h->slot[i] = mem + (size_t)i * TCHUNK;
    h->t = *b;
    h->t.base = b->base + b->len; /* the thread decodes what follows the bytes buffered here */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* signals go to the caller's threads */
    int bad = pthread_create(&h->th, NULL, thr_main, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (bad) {
        pthread_cond_destroy(&h->cv);
        pthread_mutex_destroy(&h->mu);
        free(h);
        free(mem);
        return 0;
    }
    b->thr = h;
    return 1;
}

static void thread_stop(ags_bsrc_t *b)
{
    struct ags_bsrc_thr *h = b->thr;
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->quit = 1;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->th, NULL); /* at most the slot being filled: a regular file never blocks */
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h->slot[0]);
    free(h);
    b->thr = NULL; /* in and dec are b's own again (the thread shared them) */
}

/* The thread's bytes into buf[len..cap): as decode_more, one step of progress (bytes, the end, or
 * the error that came after the last byte handed out). */
static int take(ags_bsrc_t *b)
{
    struct ags_bsrc_thr *h = b->thr;
    for (;;) {
        pthread_mutex_lock(&h->mu);
        while (!h->count)
            pthread_cond_wait(&h->cv, &h->mu);
        pthread_mutex_unlock(&h->mu);
        unsigned i = h->tail;
        if (h->toff < h->len[i]) {
            size_t n = h->len[i] - h->toff;
            if (n > b->cap - b->len)
                n = b->cap - b->len;
            memcpy(b->buf + b->len, h->slot[i] + h->toff, n);
            b->len += n;
            h->toff += n;
            b->file_read = h->file_read[i];
            return 0;
        }
        if (h->err[i]) {
            b->err = h->err[i];
            memcpy(b->msg, h->msg[i], sizeof(b->msg));
            return b->err;
        }
        if (h->eof[i]) {
            b->eof = 1;
            return 0;
        }
        pthread_mutex_lock(&h->mu); /* the slot is spent: back to the thread */
        h->tail = (i + 1) % TSLOTS;
        h->count--;
        h->toff = 0;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
    }
}

/* ------------------------------------------------------------------ mapped plain files */

/* 16 MiB windows, each populated when mapped (its page-table entries filled in one call, not a
 * page fault per 4 KiB as it is parsed: that was slower and noisier). gups.agt decode, best of
 * 11: 0.0316 s in 16 MiB windows, 0.0323 s populated 1 MiB at a time, 0.0328 s in 1 MiB windows
 * (a mapping costs about 37 us), 0.0339 s with read(2). At most 16 MiB of the file is resident
 * for the reader at a time. */
#define MAP_WINDOW ((size_t)1 << 24)
#ifndef MAP_POPULATE
#define MAP_POPULATE 0 /* not Linux: the pages fault in as they are parsed */
#endif

/* Unmap the window; buf is the heap buffer again (empty). */
static void map_drop(ags_bsrc_t *b)
{
    if (!b->map)
        return;
    munmap(b->map, b->map_len);
    b->map = NULL;
    b->map_len = 0;
    b->buf = b->heap;
    b->cap = b->heap_cap;
    b->heap = NULL;
}

/* Map the window that holds stream offset `at` and at least `want` bytes after it (fewer at the
 * end of the file). The file's size is taken again each time: a file that grew is read to its
 * new end, one that shrank ends where it now ends (and the reader reports what is missing).
 * Returns 0, or -1 if the window could not be mapped (nothing changed; read(2) takes over). */
static int map_window(ags_bsrc_t *b, uint64_t at, size_t want)
{
    struct stat st;
    if (fstat(b->fd, &st) || st.st_size < 0)
        return -1;
    uint64_t size = (uint64_t)st.st_size;
    uint64_t start = at & ~(uint64_t)(b->page - 1);
    size_t wlen = want + (size_t)(at - start) > MAP_WINDOW ? want + (size_t)(at - start) : MAP_WINDOW;
    if (start >= size)
        return -1; /* nothing left to map: read(2) finds the end */
    if (wlen > size - start)
        wlen = (size_t)(size - start);
    void *m = mmap(NULL, wlen, PROT_READ, MAP_PRIVATE | MAP_POPULATE, b->fd, (off_t)start);
    if (m == MAP_FAILED)
        return -1;
    if (b->map)
        munmap(b->map, b->map_len);
    b->map = b->buf = m;
    b->map_len = b->cap = b->len = wlen;
    b->base = start;
    b->pos = (size_t)(at - start);
    b->eof = start + wlen == size;
    b->file_read = start + wlen;
    if (!b->eof) /* the next window from the disk while this one is parsed */
        posix_fadvise(b->fd, (off_t)(start + wlen), (off_t)MAP_WINDOW, POSIX_FADV_WILLNEED);
    return 0;
}

int ags_bsrc_map_start(ags_bsrc_t *b)
{
    if (b->map || b->thr || b->comp != AGS_COMP_NONE || !b->file_size || b->eof || b->err)
        return 0;
    long pg = sysconf(_SC_PAGESIZE);
    if (pg <= 0 || (pg & (pg - 1)))
        return 0;
    b->page = (size_t)pg;
    uint8_t *heap = b->buf;
    size_t heap_cap = b->cap;
    if (map_window(b, b->base + b->pos, 1))
        return 0; /* still the buffer, untouched */
    b->heap = heap;
    b->heap_cap = heap_cap;
    b->in_pos = b->in_len = 0; /* the bytes sniffed at the start are the window's too */
    b->in_eof = 0;
    return 1;
}

/* The next window; if it cannot be mapped, read(2) from where this one ends. */
static int map_more(ags_bsrc_t *b, size_t want)
{
    uint64_t at = b->base + b->pos, end = b->base + b->len;
    if (!map_window(b, at, want))
        return 0;
    size_t have = b->len - b->pos, cap = b->heap_cap;
    while (cap < have + want)
        cap *= 2;
    uint8_t *h = cap == b->heap_cap ? b->heap : realloc(b->heap, cap);
    if (!h)
        return fail(b, AGS_E_NOMEM, "%s: %s", "out of memory");
    memcpy(h, b->buf + b->pos, have);
    b->heap = h;
    b->heap_cap = cap;
    map_drop(b);
    b->base = at;
    b->pos = 0;
    b->len = have;
    if (lseek(b->fd, (off_t)end, SEEK_SET) < 0)
        return fail(b, AGS_E_IO, "%s: seek failed: %s", strerror(errno));
    return 0;
}

int ags_bsrc_mapped(const ags_bsrc_t *b, const void *addr)
{
    const uint8_t *p = addr, *m = b->map;
    return m && p >= m && p < m + b->map_len;
}

long ags_bsrc_need(ags_bsrc_t *b, size_t want)
{
    if (b->err)
        return b->err;
    if (b->map && b->len - b->pos < want && !b->eof && map_more(b, want))
        return b->err;
    while (b->len - b->pos < want && !b->eof) {
        if (b->pos) { /* slide */
            memmove(b->buf, b->buf + b->pos, b->len - b->pos);
            b->base += b->pos;
            b->len -= b->pos;
            b->pos = 0;
        }
        if (b->len == b->cap) {
            size_t nc = b->cap * 2;
            uint8_t *p = realloc(b->buf, nc);
            if (!p)
                return fail(b, AGS_E_NOMEM, "%s: %s", "out of memory");
            b->buf = p;
            b->cap = nc;
        }
        if (b->thr ? take(b) : decode_more(b))
            return b->err;
    }
    return (long)(b->len - b->pos);
}
