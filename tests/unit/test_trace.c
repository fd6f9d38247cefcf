/* Trace formats: exact round trip through .agt (plain and zstd), a hand-built ChampSim trace
 * (xz), hand-written Lackey and pinatrace logs, and corrupted inputs with their error messages. */
#include "agilesim/agilesim.h"
#include "check.h"
#include <lzma.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/ags_trace_XXXXXX";

static const char *path(const char *name)
{
    static char buf[8][256];
    static int i;
    i = (i + 1) & 7;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
    return buf[i];
}

static void write_file(const char *p, const void *data, size_t n)
{
    FILE *f = fopen(p, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

static size_t read_all(const char *p, ags_format_t fmt, ags_event_t *ev, size_t cap, const char **err)
{
    static char msg[512];
    ags_reader_t *r;
    char e[512];
    *err = NULL;
    if (ags_reader_open(p, fmt, &r, e, sizeof(e))) {
        snprintf(msg, sizeof(msg), "%s", e);
        *err = msg;
        return 0;
    }
    size_t n = 0, k;
    while (n < cap && (k = ags_reader_next(r, ev + n, cap - n)) > 0)
        n += k;
    const char *m;
    if (ags_reader_error(r, &m)) {
        snprintf(msg, sizeof(msg), "%s", m);
        *err = msg;
    }
    ags_reader_close(r);
    return n;
}

static int same_event(const ags_event_t *a, const ags_event_t *b)
{
    return a->type == b->type && a->kind == b->kind && a->size == b->size && a->pid == b->pid &&
           a->icount == b->icount && a->addr == b->addr && a->len == b->len && a->arg == b->arg && a->arg2 == b->arg2;
}

static void round_trip(void)
{
    size_t nwl;
    const ags_workload_info_t *wl = ags_workload_list(&nwl);
    size_t cap = 400000;
    ags_event_t *src = malloc(cap * sizeof(ags_event_t)), *back = malloc(cap * sizeof(ags_event_t));
    for (size_t w = 0; w < nwl; w++) {
        ags_workload_t *g;
        ags_workload_create(wl[w].name, 100000, 16ULL << 20, 3, &g);
        size_t n = 0, k;
        while ((k = ags_workload_next(g, src + n, cap - n)) > 0)
            n += k;
        ags_workload_destroy(g);
        for (int z = 0; z <= 1; z++) {
            ags_writer_t *wr;
            char err[512];
            CHECK_EQ(ags_writer_open(path("rt.agt"), z, &wr, err, sizeof(err)), 0);
            CHECK_EQ(ags_writer_write(wr, src, n / 2), 0);
            CHECK_EQ(ags_writer_write(wr, src + n / 2, n - n / 2), 0);
            CHECK_EQ(ags_writer_close(wr, 1, err, sizeof(err)), 0);
            const char *e;
            size_t m = read_all(path("rt.agt"), AGS_FMT_AUTO, back, cap, &e);
            if (e)
                fprintf(stderr, "%s\n", e);
            CHECK(e == NULL);
            CHECK_EQ(m, n);
            size_t diff = 0;
            for (size_t i = 0; i < n && i < m; i++)
                diff += !same_event(&src[i], &back[i]);
            CHECK_EQ(diff, 0);
        }
    }
    /* corruption: flip one payload byte -> a checksum (or record) error; truncate -> error */
    {
        ags_writer_t *wr;
        char err[512];
        ags_writer_open(path("c.agt"), 0, &wr, err, sizeof(err));
        ags_writer_write(wr, src, 5000);
        ags_writer_close(wr, 1, err, sizeof(err));
        FILE *in = fopen(path("c.agt"), "rb");
        fseek(in, 0, SEEK_END);
        long sz = ftell(in);
        fseek(in, 0, SEEK_SET);
        unsigned char *buf = malloc((size_t)sz);
        CHECK_EQ(fread(buf, 1, (size_t)sz, in), (size_t)sz);
        fclose(in);
        const char *e;
        buf[sz / 2] ^= 0x01; /* a bit in an address delta: decodes, but the checksum differs */
        write_file(path("flip.agt"), buf, (size_t)sz);
        read_all(path("flip.agt"), AGS_FMT_AUTO, back, cap, &e);
        CHECK(e && (strstr(e, "checksum mismatch") || strstr(e, "malformed") || strstr(e, "tag")));
        buf[sz / 2] ^= 0x01;
        write_file(path("trunc.agt"), buf, (size_t)sz - 20);
        read_all(path("trunc.agt"), AGS_FMT_AUTO, back, cap, &e);
        CHECK(e && strstr(e, "trunc"));
        write_file(path("hdr.agt"), buf, 30);
        read_all(path("hdr.agt"), AGS_FMT_AGT, back, cap, &e);
        CHECK(e && strstr(e, "truncated .agt header"));
        memcpy(buf, "AGSTRACX", 8);
        write_file(path("magic.agt"), buf, (size_t)sz);
        read_all(path("magic.agt"), AGS_FMT_AGT, back, cap, &e);
        CHECK(e && strstr(e, "bad magic at byte 0"));
        free(buf);
    }
    free(src);
    free(back);
}

/* Every width of every .agt field, through the decoder's fast path and its checked path: address
 * deltas of 1 to 10 varint bytes (the jump between the halves of the address space), sizes and
 * instruction counts of 1 to 5 bytes, pid and tid changes; 57-bit addresses. Read back in batches
 * of 1, 3 and 4096 events (records then straddle every batch and buffer boundary), each event equal,
 * tid included. The same file read as 48-bit gives the non-canonical error at its record's byte. */
static void field_widths(void)
{
    const size_t n = 200000;
    ags_event_t *src = calloc(n, sizeof(ags_event_t)), *back = calloc(n, sizeof(ags_event_t));
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    size_t first57 = SIZE_MAX;
    uint32_t pid = 1, tid = 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        ags_event_t *e = &src[i];
        e->type = AGS_EV_ACCESS;
        e->kind = (uint8_t)(x & 3);
        unsigned w = (unsigned)(x >> 2) % 12; /* the address's width: near, far, either half */
        uint64_t a = (x >> 8) & ((w < 10 ? 1ULL << (4 * w + 8) : 1ULL << 47) - 1);
        if (w == 11 || (w > 6 && (x >> 60) & 1))
            a |= 0xffff800000000000ULL; /* the upper half: a 10-byte delta from the lower */
        if (w == 10 && (x >> 61) & 1) {
            a = (x >> 4) & ((1ULL << 56) - 1); /* canonical in 57 bits only */
            if (first57 == SIZE_MAX)
                first57 = i;
        }
        e->addr = a;
        unsigned sw = (unsigned)(x >> 40) & 7;
        e->size = (uint16_t)(sw < 3 ? 8u >> sw : sw == 3 ? 1 + (x >> 44) % 127 : 1 + (x >> 44) % 65535);
        unsigned iw = (unsigned)(x >> 20) & 7;
        e->icount = iw < 3 ? iw : iw == 3 ? (uint32_t)(x >> 24) % 16383 : (uint32_t)(x >> 24);
        if (((x >> 50) & 63) == 0)
            pid = 1 + (uint32_t)(x >> 56) % 3;
        if (((x >> 44) & 63) == 1)
            tid = (uint32_t)(x >> 12);
        e->pid = pid;
        e->tid = tid;
    }
    CHECK(first57 != SIZE_MAX);
    for (int z = 0; z <= 1; z++) {
        ags_writer_t *wr;
        char err[512];
        CHECK_EQ(ags_writer_open(path("w.agt"), z, &wr, err, sizeof(err)), 0);
        CHECK_EQ(ags_writer_write(wr, src, n), 0);
        CHECK_EQ(ags_writer_close(wr, 1, err, sizeof(err)), 0);
        static const size_t batches[] = { 1, 3, 4096 };
        for (size_t b = 0; b < 3; b++) {
            ags_reader_t *r;
            CHECK_EQ(ags_reader_open(path("w.agt"), AGS_FMT_AUTO, &r, err, sizeof(err)), 0);
            ags_reader_set_va_bits(r, 57);
            size_t m = 0, k;
            while (m < n && (k = ags_reader_next(r, back + m, n - m < batches[b] ? n - m : batches[b])) > 0)
                m += k;
            const char *msg;
            CHECK_EQ(ags_reader_error(r, &msg), 0);
            ags_reader_close(r);
            CHECK_EQ(m, n);
            size_t diff = 0;
            for (size_t i = 0; i < m; i++)
                diff += !same_event(&src[i], &back[i]) || src[i].tid != back[i].tid;
            CHECK_EQ(diff, 0);
        }
        /* 48-bit: the events before the first 57-bit address, then its error */
        ags_reader_t *r;
        CHECK_EQ(ags_reader_open(path("w.agt"), AGS_FMT_AUTO, &r, err, sizeof(err)), 0);
        size_t m = 0, k;
        while (m < n && (k = ags_reader_next(r, back + m, n - m)) > 0)
            m += k;
        const char *msg = NULL;
        CHECK(ags_reader_error(r, &msg) != 0);
        CHECK(msg && strstr(msg, "non-canonical address"));
        char want[64];
        snprintf(want, sizeof(want), "0x%llx", (unsigned long long)src[first57].addr);
        CHECK(msg && strstr(msg, want));
        CHECK_EQ(m, first57);
        ags_reader_close(r);
    }
    free(src);
    free(back);
}

/* Every event of p read in batches of `batch`, with the reader's decompression thread or without;
 * *err: the error message (a copy), or "" */
static size_t read_threads(const char *p, unsigned threads, size_t batch, ags_event_t *ev, size_t cap, char *err,
                           size_t errlen)
{
    ags_reader_t *r;
    err[0] = 0;
    if (ags_reader_open(p, AGS_FMT_AUTO, &r, err, errlen))
        return 0;
    CHECK_EQ(ags_reader_set_threads(r, threads), threads > 1 ? 2u : 1u);
    size_t n = 0, k;
    while (n < cap && (k = ags_reader_next(r, ev + n, cap - n < batch ? cap - n : batch)) > 0)
        n += k;
    const char *m;
    if (ags_reader_error(r, &m))
        snprintf(err, errlen, "%s", m);
    ags_reader_close(r);
    return n;
}

static unsigned char *slurp(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n);
    CHECK_EQ(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

/* The decompression thread (ags_reader_set_threads): the same events, the same error at the same
 * point, for zstd and xz, whole, corrupt and cut short; several 1 MiB slots of decoded bytes. */
static void decompress_thread(void)
{
    size_t cap = 2600000, n = 0, k;
    ags_event_t *src = malloc(cap * sizeof(ags_event_t)), *a = malloc(cap * sizeof(ags_event_t)),
                *b = malloc(cap * sizeof(ags_event_t));
    ags_workload_t *g;
    ags_workload_create("mixed", 2000000, 64ULL << 20, 5, &g);
    while ((k = ags_workload_next(g, src + n, cap - n)) > 0)
        n += k;
    ags_workload_destroy(g);
    char err[512];
    for (int z = 0; z <= 1; z++) {
        ags_writer_t *wr;
        CHECK_EQ(ags_writer_open(path(z ? "th.agt.zst" : "th.agt"), z, &wr, err, sizeof(err)), 0);
        CHECK_EQ(ags_writer_write(wr, src, n), 0);
        CHECK_EQ(ags_writer_close(wr, 1, err, sizeof(err)), 0);
    }
    size_t rawn, zn;
    unsigned char *raw = slurp(path("th.agt"), &rawn), *zb = slurp(path("th.agt.zst"), &zn);
    CHECK(rawn > 3 * (1u << 20)); /* more than three slots of decoded bytes */
    /* the same bytes as xz */
    size_t xcap = rawn + 65536, xn = 0;
    uint8_t *xb = malloc(xcap);
    CHECK_EQ(lzma_easy_buffer_encode(0, LZMA_CHECK_CRC64, NULL, raw, rawn, xb, &xn, xcap), LZMA_OK);
    write_file(path("th.agt.xz"), xb, xn);
    const char *whole[2] = { path("th.agt.zst"), path("th.agt.xz") };
    for (int f = 0; f < 2; f++) {
        char e1[512], e2[512];
        size_t n1 = read_threads(whole[f], 1, 4096, a, cap, e1, sizeof(e1));
        size_t n2 = read_threads(whole[f], 2, 777, b, cap, e2, sizeof(e2));
        CHECK_EQ(n1, n);
        CHECK_EQ(n2, n);
        CHECK(!e1[0] && !e2[0]);
        size_t diff = 0;
        for (size_t i = 0; i < n && i < n2; i++)
            diff += !same_event(&src[i], &b[i]);
        CHECK_EQ(diff, 0);
    }
    /* damaged inputs: a flipped byte in the compressed data, and the file cut short */
    struct { const unsigned char *b; size_t len; size_t flip; const char *name; } bad[] = {
        { zb, zn, zn / 2, "flip.agt.zst" }, { zb, zn * 3 / 5, 0, "cut.agt.zst" },
        { xb, xn, xn / 2, "flip.agt.xz" },  { xb, xn * 3 / 5, 0, "cut.agt.xz" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char *c = malloc(bad[i].len);
        memcpy(c, bad[i].b, bad[i].len);
        if (bad[i].flip)
            c[bad[i].flip] ^= 0x5a;
        write_file(path(bad[i].name), c, bad[i].len);
        free(c);
        char e1[512], e2[512];
        size_t n1 = read_threads(path(bad[i].name), 1, 4096, a, cap, e1, sizeof(e1));
        size_t n2 = read_threads(path(bad[i].name), 2, 777, b, cap, e2, sizeof(e2));
        if (strcmp(e1, e2))
            fprintf(stderr, "%s: '%s' vs '%s'\n", bad[i].name, e1, e2);
        CHECK(e1[0] != 0);
        CHECK(!strcmp(e1, e2));
        /* How many events come before the error depends on the decoder's steps (bytes a failing
         * step produced are dropped; the last < 72 bytes are not parsed): the events agree as far
         * as both go, and a file cut short gives a prefix of the whole. */
        size_t diff = 0, upto = n1 < n2 ? n1 : n2;
        for (size_t j = 0; j < upto; j++)
            diff += !same_event(&a[j], &b[j]) || (!bad[i].flip && !same_event(&a[j], &src[j]));
        CHECK_EQ(diff, 0);
        CHECK(n1 > 0 && n2 > 0);
    }
    /* not applicable: a plain file stays on the caller's thread */
    {
        ags_reader_t *r;
        CHECK_EQ(ags_reader_open(path("th.agt"), AGS_FMT_AUTO, &r, err, sizeof(err)), 0);
        CHECK_EQ(ags_reader_set_threads(r, 2), 1u);
        ags_reader_close(r);
    }
    /* closed before the end: the thread is stopped and joined (ASan/TSan see the rest) */
    {
        ags_reader_t *r;
        CHECK_EQ(ags_reader_open(path("th.agt.zst"), AGS_FMT_AUTO, &r, err, sizeof(err)), 0);
        CHECK_EQ(ags_reader_set_threads(r, 2), 2u);
        CHECK_EQ(ags_reader_next(r, a, 1000), 1000u);
        ags_reader_close(r);
    }
    free(raw);
    free(zb);
    free(xb);
    free(src);
    free(a);
    free(b);
}

/* Read p with and without the mapped window (ags_reader_use_mmap), side by side in batches of
 * `batch`: the number of events both give, 0 if any differs; *same_err: both end with the same
 * message (copied to err). */
static size_t mapped_vs_read(const char *p, size_t batch, int *same_err, char *err, size_t errlen)
{
    ags_reader_t *m, *r;
    char e[512];
    CHECK_EQ(ags_reader_open(p, AGS_FMT_AUTO, &m, e, sizeof(e)), 0);
    CHECK_EQ(ags_reader_open(p, AGS_FMT_AUTO, &r, e, sizeof(e)), 0);
    CHECK_EQ(ags_reader_use_mmap(m), 1);
    CHECK_EQ(ags_reader_use_mmap(m), 1); /* a second call: still mapped, nothing remapped */
    ags_event_t *a = malloc(batch * sizeof(*a)), *b = malloc(batch * sizeof(*b));
    size_t n = 0, ka, kb, diff = 0;
    do {
        ka = ags_reader_next(m, a, batch);
        kb = ags_reader_next(r, b, batch);
        diff += ka != kb;
        for (size_t i = 0; i < ka && i < kb; i++)
            diff += !same_event(&a[i], &b[i]);
        n += ka;
    } while (ka && kb && !diff);
    const char *ma, *mb;
    int ea = ags_reader_error(m, &ma), eb = ags_reader_error(r, &mb);
    *same_err = ea == eb && !strcmp(ma, mb);
    snprintf(err, errlen, "%s", ma);
    if (!*same_err)
        fprintf(stderr, "%s: mapped '%s' vs read '%s'\n", p, ma, mb);
    ags_reader_close(m);
    ags_reader_close(r);
    free(a);
    free(b);
    return diff ? 0 : n;
}

static sigjmp_buf g_bus_jmp;
static void *volatile g_bus_addr;
static void on_bus(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    g_bus_addr = si->si_addr;
    siglongjmp(g_bus_jmp, 1);
}

/* A plain file through a mapped window (ags_reader_use_mmap): the same events and the same errors
 * as read(2), across 16 MiB windows, for .agt whole, cut at and around a window's
 * end and flipped beyond it, and for a text (Lackey) log; not used for a compressed file; and a
 * file truncated under the reader raises SIGBUS at an address ags_reader_maps claims. */
static void mapped_window(void)
{
    size_t cap = 1000000, n = 0, k;
    ags_event_t *src = malloc(cap * sizeof(ags_event_t));
    ags_workload_t *g;
    ags_workload_create("gups", cap, 1ULL << 30, 7, &g);
    while (n < cap && (k = ags_workload_next(g, src + n, cap - n)) > 0)
        n += k;
    ags_workload_destroy(g);
    char err[512];
    ags_writer_t *wr;
    CHECK_EQ(ags_writer_open(path("map.agt"), 0, &wr, err, sizeof(err)), 0);
    for (int rep = 0; rep < 5; rep++) /* about 22 MiB: two windows */
        CHECK_EQ(ags_writer_write(wr, src, n), 0);
    CHECK_EQ(ags_writer_close(wr, 1, err, sizeof(err)), 0);
    size_t len;
    unsigned char *raw = slurp(path("map.agt"), &len);
    CHECK(len > (17u << 20));
    int same;
    CHECK_EQ(mapped_vs_read(path("map.agt"), 4096, &same, err, sizeof(err)), 5 * n);
    CHECK(same && !err[0]);
    CHECK_EQ(mapped_vs_read(path("map.agt"), 777, &same, err, sizeof(err)), 5 * n);
    CHECK(same);
    /* damaged: cut inside the first window, at 1 MiB, at the window's end and around it, and a
     * byte flipped in the second window */
    const size_t W = (size_t)1 << 24;
    size_t cuts[] = { 100000, 1u << 20, W - 1, W, W + 1, W + 4096 + 5, len - 9 };
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        write_file(path("cut.agt"), raw, cuts[i]);
        size_t got = mapped_vs_read(path("cut.agt"), 4096, &same, err, sizeof(err));
        CHECK(same && strstr(err, "truncated") != NULL);
        CHECK(got > 0);
    }
    raw[W + 12345] ^= 0x5a;
    write_file(path("flip.agt"), raw, len);
    raw[W + 12345] ^= 0x5a;
    CHECK(mapped_vs_read(path("flip.agt"), 4096, &same, err, sizeof(err)) > 0);
    CHECK(same && err[0]);
    /* a text log (about 3 MiB) */
    {
        FILE *f = fopen(path("map.lackey"), "w");
        for (unsigned i = 0; i < 200000; i++)
            fprintf(f, i % 5 ? " L %llx,8\n" : "I  %llx,4\n", 0x400000ULL + (i * 2654435761ULL) % (1u << 28));
        fclose(f);
        CHECK_EQ(mapped_vs_read(path("map.lackey"), 1000, &same, err, sizeof(err)), 200000);
        CHECK(same && !err[0]);
    }
    /* not applicable: compressed, and standard input */
    {
        CHECK_EQ(ags_writer_open(path("map.agt.zst"), 1, &wr, err, sizeof(err)), 0);
        CHECK_EQ(ags_writer_write(wr, src, 1000), 0);
        CHECK_EQ(ags_writer_close(wr, 1, err, sizeof(err)), 0);
        ags_reader_t *r;
        CHECK_EQ(ags_reader_open(path("map.agt.zst"), AGS_FMT_AUTO, &r, err, sizeof(err)), 0);
        CHECK_EQ(ags_reader_use_mmap(r), 0);
        ags_reader_close(r);
    }
    /* truncated by another writer while mapped: SIGBUS inside the reader's window */
    {
        write_file(path("shrink.agt"), raw, len);
        ags_reader_t *r;
        CHECK_EQ(ags_reader_open(path("shrink.agt"), AGS_FMT_AUTO, &r, err, sizeof(err)), 0);
        CHECK_EQ(ags_reader_use_mmap(r), 1);
        ags_event_t *b = malloc(4096 * sizeof(*b));
        CHECK_EQ(ags_reader_next(r, b, 4096), 4096u); /* about 18 KiB into the first window */
        CHECK(!ags_reader_maps(r, b));
        CHECK_EQ(truncate(path("shrink.agt"), 4096), 0);
        struct sigaction sa, old;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = on_bus;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGBUS, &sa, &old);
        volatile int faulted = 0;
        if (!sigsetjmp(g_bus_jmp, 1))
            ags_reader_next(r, b, 4096);
        else
            faulted = 1;
        sigaction(SIGBUS, &old, NULL);
        CHECK(faulted);
        CHECK(ags_reader_maps(r, g_bus_addr));
        ags_reader_close(r);
        free(b);
    }
    free(raw);
    free(src);
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void champsim(void)
{
    /* three instructions: (1) load 0x1000, store 0x2000; (2) loads 0x1008, 0x3000; (3) no memory */
    unsigned char rec[3][64];
    memset(rec, 0, sizeof(rec));
    put64(rec[0], 0x400000);
    put64(rec[0] + 32, 0x1000);
    put64(rec[0] + 16, 0x2000);
    put64(rec[1], 0x400004);
    put64(rec[1] + 32, 0x1008);
    put64(rec[1] + 40, 0x3000);
    put64(rec[2], 0x400008);
    rec[2][8] = 1; /* is_branch: ignored */
    /* xz-compress */
    uint8_t out[4096];
    size_t outpos = 0;
    CHECK_EQ(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, (const uint8_t *)rec, sizeof(rec), out, &outpos,
                                     sizeof(out)),
             LZMA_OK);
    write_file(path("t.champsim.xz"), out, outpos);
    ags_event_t ev[32];
    const char *e;
    size_t n = read_all(path("t.champsim.xz"), AGS_FMT_AUTO, ev, 32, &e);
    CHECK(e == NULL);
    CHECK_EQ(n, 3 + 3 + 1); /* 3 fetches, 3 loads, 1 store */
    unsigned fetch = 0, load = 0, store = 0, instr = 0;
    for (size_t i = 0; i < n; i++) {
        fetch += ev[i].kind == AGS_ACC_IFETCH;
        load += ev[i].kind == AGS_ACC_LOAD;
        store += ev[i].kind == AGS_ACC_STORE;
        instr += ev[i].icount;
    }
    CHECK_EQ(fetch, 3);
    CHECK_EQ(load, 3);
    CHECK_EQ(store, 1);
    CHECK_EQ(instr, 3);
    CHECK_EQ(ev[0].addr, 0x400000);
    CHECK_EQ(ev[1].addr, 0x1000);
    CHECK_EQ(ev[2].addr, 0x2000);
    CHECK_EQ(ev[2].kind, AGS_ACC_STORE);
    CHECK_EQ(ev[5].addr, 0x3000);
    /* gzip and raw give the same */
    write_file(path("t.champsim"), rec, sizeof(rec));
    CHECK_EQ(read_all(path("t.champsim"), AGS_FMT_CHAMPSIM, ev, 32, &e), 7);
    /* a truncated record */
    write_file(path("t2.champsim"), rec, sizeof(rec) - 10);
    n = read_all(path("t2.champsim"), AGS_FMT_CHAMPSIM, ev, 32, &e);
    CHECK(e && strstr(e, "truncated record at byte 128 (54 of 64 bytes)"));
    /* a corrupt xz stream */
    out[outpos / 2] ^= 0xff;
    write_file(path("bad.xz"), out, outpos);
    read_all(path("bad.xz"), AGS_FMT_CHAMPSIM, ev, 32, &e);
    CHECK(e && strstr(e, "xz"));
}

static void lackey(void)
{
    const char *log =
        "==4242== Lackey, an example Valgrind tool\n"
        "==4242== Command: ./prog\n"
        "I  0401ab70,3\n"
        " S 1fff000628,8\n"
        "SYSCALL[4242,1](12) sys_brk ( 0x0 ) --> [pre-success] Success(0x4035000) \n"
        "SYSCALL[4242,1](9) sys_mmap ( 0x0, 8192, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x4835000) \n"
        "SYSCALL[4242,1](10) sys_mprotect ( 0x4835000, 4096, 1 ) --> [async] ... \n"
        " L 04835000,4\n"
        "SYSCALL[4242,1](10) ... [async] --> Success(0x0) \n"
        "SYSCALL[4242,1](257) sys_openat ( 4294967196, 0x4034bb0(/usr/lib/x.so), 524288 ) --> Success(0x3) \n"
        "SYSCALL[4242,1](11) sys_munmap ( 0x4835000, 8192 )[sync] --> Success(0x0) \n"
        "SYSCALL[4242,1](9) sys_mmap ( 0x0, 4096, 3, 34, 4294967295, 0 ) --> [pre-success] Failure(0xc) \n"
        " M 04035010,8\n"
        "--4242-- a valgrind message\n"
        "SYSCALL[4242,1](231) exit_group( 0 ) --> [pre-success] Success(0x0) \n"
        "==4242== \n";
    write_file(path("t.lackey"), log, strlen(log));
    ags_event_t ev[32];
    const char *e;
    size_t n = read_all(path("t.lackey"), AGS_FMT_AUTO, ev, 32, &e);
    CHECK(e == NULL);
    CHECK_EQ(n, 9);
    CHECK_EQ(ev[8].type, AGS_EV_EXIT);
    CHECK_EQ(ev[8].pid, 4242);
    CHECK_EQ(ev[0].type, AGS_EV_ACCESS);
    CHECK_EQ(ev[0].kind, AGS_ACC_IFETCH);
    CHECK_EQ(ev[0].addr, 0x401ab70);
    CHECK_EQ(ev[0].size, 3);
    CHECK_EQ(ev[0].icount, 1);
    CHECK_EQ(ev[0].pid, 4242);
    CHECK_EQ(ev[1].kind, AGS_ACC_STORE);
    CHECK_EQ(ev[1].addr, 0x1fff000628ULL);
    CHECK_EQ(ev[2].type, AGS_EV_BRK);
    CHECK_EQ(ev[2].addr, 0x4035000);
    CHECK_EQ(ev[3].type, AGS_EV_MMAP);
    CHECK_EQ(ev[3].addr, 0x4835000);
    CHECK_EQ(ev[3].len, 8192);
    CHECK_EQ(ev[3].arg, 3);
    CHECK_EQ(ev[4].type, AGS_EV_ACCESS); /* the load came before the async mprotect completed */
    CHECK_EQ(ev[4].kind, AGS_ACC_LOAD);
    CHECK_EQ(ev[5].type, AGS_EV_MPROTECT);
    CHECK_EQ(ev[5].arg, 1);
    CHECK_EQ(ev[6].type, AGS_EV_MUNMAP);
    CHECK_EQ(ev[6].len, 8192);
    CHECK_EQ(ev[7].kind, AGS_ACC_MODIFY);
    /* errors name the line */
    const char *bad1 = "==1== x\nI  0401ab70,3\n L zzz,8\n";
    write_file(path("b1.lackey"), bad1, strlen(bad1));
    read_all(path("b1.lackey"), AGS_FMT_LACKEY, ev, 32, &e);
    CHECK(e && strstr(e, "line 3: expected hex address, comma, decimal size"));
    const char *bad2 = "==1== x\nI  0401ab70,3\nhello\n";
    write_file(path("b2.lackey"), bad2, strlen(bad2));
    read_all(path("b2.lackey"), AGS_FMT_LACKEY, ev, 32, &e);
    CHECK(e && strstr(e, "line 3: expected 'I  addr,size'"));
    const char *bad3 = "==1== x\n S 800000000000,8\n";
    write_file(path("b3.lackey"), bad3, strlen(bad3));
    read_all(path("b3.lackey"), AGS_FMT_LACKEY, ev, 32, &e);
    CHECK(e && strstr(e, "line 2: non-canonical address 0x800000000000"));
    /* the same address is canonical with 57-bit (5-level) virtual addresses */
    {
        ags_reader_t *r;
        char er[256];
        CHECK_EQ(ags_reader_open(path("b3.lackey"), AGS_FMT_LACKEY, &r, er, sizeof(er)), 0);
        ags_reader_set_va_bits(r, 57);
        CHECK_EQ(ags_reader_next(r, ev, 32), 1);
        CHECK_EQ(ev[0].addr, 0x800000000000ULL);
        const char *m;
        CHECK_EQ(ags_reader_error(r, &m), 0);
        ags_reader_close(r);
    }
}

static void pinatrace(void)
{
    const char *t = "0x401000: W 0x7ffc3a2d9d68\n0x401000: R 0x7ffc3a2d9d70\n0x401004: R 0x601040\n#eof\n";
    write_file(path("t.pina"), t, strlen(t));
    ags_event_t ev[32];
    const char *e;
    size_t n = read_all(path("t.pina"), AGS_FMT_AUTO, ev, 32, &e);
    CHECK(e == NULL);
    CHECK_EQ(n, 5); /* fetch, W, R, fetch, R */
    CHECK_EQ(ev[0].kind, AGS_ACC_IFETCH);
    CHECK_EQ(ev[1].kind, AGS_ACC_STORE);
    CHECK_EQ(ev[1].addr, 0x7ffc3a2d9d68ULL);
    CHECK_EQ(ev[3].addr, 0x401004);
    const char *bad = "0x401000: X 0x7ffc3a2d9d68\n";
    write_file(path("b.pina"), bad, strlen(bad));
    read_all(path("b.pina"), AGS_FMT_PINATRACE, ev, 32, &e);
    CHECK(e && strstr(e, "line 1: expected 'ip: R|W addr'"));
    write_file(path("empty"), "", 0);
    read_all(path("empty"), AGS_FMT_AUTO, ev, 32, &e);
    CHECK(e && strstr(e, "empty trace"));
    read_all(path("missing"), AGS_FMT_AUTO, ev, 32, &e);
    CHECK(e && strstr(e, "cannot open"));
}

/* Lackey from a live recording (lenient): clone flags are hex without 0x (bash's fork:
 * 1200011, no CLONE_THREAD); the child comes from "created child N" on the SYSCALL line, and a
 * fork whose line a child's output garbled is taken from what is left of it, once. */
static void lackey_forks(void)
{
    const char *text =
        "==10== Command: bash\n"
        "SYSCALL[10,1](56) sys_clone ( 1200011, 0x0, 0x0, 0x4a5ca10, 0x0 )   clone(fork): process 10 created child 11\n"
        " --> [pre-success] Success(0xb) \n"
        "SYSCALL[10,1](56) sys_clone ( 1200011, 0x0, 0x0, 0x4a5ca10, 0x0 ) L 1ffe,8 garbage   clone(fork): process 10 created child 12\n"
        "SYSCALL[10,1](56) sys_clone ( 1200011, 0x0, 0x0, 0x4a5ca10, 0x0 )\n"
        "I  40==11== tail   clone(fork): process 10 created child 13\n"
        " --> [pre-success] Success(0xd) \n"
        "SYSCALL[10,1](56) sys_clone ( 3d0f00, 0x0, 0x0, 0x4a5ca10, 0x0 )   clone(thread): process 10 created child 14\n";
    write_file(path("forks.lackey"), text, strlen(text));
    ags_reader_t *r;
    char err[256];
    CHECK_EQ(ags_reader_open(path("forks.lackey"), AGS_FMT_LACKEY, &r, err, sizeof(err)), 0);
    ags_reader_set_lenient(r, 1);
    ags_event_t ev[16];
    size_t n = ags_reader_next(r, ev, 16);
    CHECK_EQ(n, 3); /* children 11, 12, 13; 14 is a thread (CLONE_THREAD in 0x3d0f00) */
    for (size_t i = 0; i < n && i < 3; i++) {
        CHECK_EQ(ev[i].type, AGS_EV_FORK);
        CHECK_EQ(ev[i].pid, 10);
        CHECK_EQ(ev[i].arg, 11 + i);
    }
    CHECK_EQ(ags_reader_salvaged(r), 1); /* 13: its SYSCALL line lost its tail */
    ags_reader_close(r);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    round_trip();
    field_widths();
    champsim();
    lackey();
    lackey_forks();
    pinatrace();
    decompress_thread();
    mapped_window();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd)) {
    }
    TEST_END();
}
