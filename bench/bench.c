/* agilesim throughput benchmark. Figures are reported as ratios measured in one run, since
 * machines are noisy: simulation rate vs. plain event generation, one mode vs. four, and the
 * .agt decode rate. This program only measures; it never fails on a rate. */
#include "agilesim/agilesim.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define BATCH 4096

/* Pre-generate the stream once so that generation cost is measured separately. */
static ags_event_t *gen(const char *wl, uint64_t n, uint64_t footprint, size_t *count, double *gen_rate)
{
    ags_workload_t *w;
    if (ags_workload_create(wl, n, footprint, 1, &w))
        return NULL;
    size_t cap = n + n / 4 + 1024, k = 0, got;
    ags_event_t *ev = malloc(cap * sizeof(ags_event_t));
    double t0 = now();
    while (ev && (got = ags_workload_next(w, ev + k, cap - k < BATCH ? cap - k : BATCH)) > 0) {
        k += got;
        if (cap - k < BATCH) {
            cap *= 2;
            ev = realloc(ev, cap * sizeof(ags_event_t));
        }
    }
    *gen_rate = (double)k / (now() - t0);
    ags_workload_destroy(w);
    *count = k;
    return ev;
}

static double sim_rate(const ags_event_t *ev, size_t n, unsigned modes, int caches)
{
    ags_config_t c;
    ags_config_defaults(&c);
    c.modes = modes;
    c.caches_on = caches;
    ags_sim_t *s;
    if (ags_sim_create(&c, &s))
        return 0;
    double t0 = now();
    for (size_t i = 0; i < n; i += BATCH)
        if (ags_sim_run(s, ev + i, n - i < BATCH ? n - i : BATCH)) {
            fprintf(stderr, "bench: %s\n", ags_sim_errmsg(s));
            break;
        }
    double r = (double)n / (now() - t0);
    ags_sim_destroy(s);
    return r;
}

/* ags_bench decode FILE [THREADS]: records per second of the reader alone (file in the page
 * cache: the second of two passes), printed as "RECORDS SECONDS". THREADS 2: a compressed file is
 * decompressed on a thread of its own (ags_reader_set_threads). A plain file is read through a
 * mapped window (ags_reader_use_mmap), as the command line reads it. */
static int decode_only(const char *p, unsigned threads)
{
    char err[512];
    ags_event_t *buf = malloc(BATCH * sizeof(ags_event_t));
    double secs = 0;
    size_t tot = 0;
    for (int pass = 0; pass < 2 && buf; pass++) {
        ags_reader_t *r;
        if (ags_reader_open(p, AGS_FMT_AUTO, &r, err, sizeof(err))) {
            fprintf(stderr, "bench: %s\n", err);
            return 1;
        }
        ags_reader_set_threads(r, threads);
        ags_reader_use_mmap(r); /* a plain file, as the command line reads it */
        size_t k;
        tot = 0;
        double t0 = now();
        while ((k = ags_reader_next(r, buf, BATCH)) > 0)
            tot += k;
        secs = now() - t0;
        ags_reader_close(r);
    }
    free(buf);
    printf("%zu %.4f\n", tot, secs);
    return 0;
}

int main(int argc, char **argv)
{
    if ((argc == 3 || argc == 4) && !strcmp(argv[1], "decode"))
        return decode_only(argv[2], argc == 4 ? (unsigned)atoi(argv[3]) : 1);
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 20000000;
    struct { const char *wl; uint64_t fp; } cases[] = { { "static", 256ULL << 20 }, { "gups", 64ULL << 20 },
                                                        { "mixed", 256ULL << 20 } };
    printf("%-8s %10s %10s %10s %10s %10s  %s\n", "workload", "gen M/s", "native M/s", "4-mode M/s",
           "4m+cache", "sim/gen", "4-mode / 1-mode");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t cnt;
        double g;
        ags_event_t *ev = gen(cases[i].wl, n, cases[i].fp, &cnt, &g);
        if (!ev)
            return 1;
        double one = sim_rate(ev, cnt, 1u << AGS_MODE_NATIVE, 0);
        double four = sim_rate(ev, cnt, AGS_MODES_ALL, 0);
        double fourc = sim_rate(ev, cnt, AGS_MODES_ALL, 1);
        printf("%-8s %10.1f %10.1f %10.1f %10.1f %10.2f  %.2f\n", cases[i].wl, g / 1e6, one / 1e6, four / 1e6,
               fourc / 1e6, one / g, four / one);
        free(ev);
    }
    /* .agt decode rate from a file in the page cache (plain and zstd) */
    {
        size_t cnt;
        double g;
        ags_event_t *ev = gen("mixed", n, 64ULL << 20, &cnt, &g);
        for (int z = 0; z <= 1; z++) {
            char err[512];
            ags_writer_t *w;
            const char *p = z ? "/tmp/ags_bench.agt.zst" : "/tmp/ags_bench.agt";
            if (!ev || ags_writer_open(p, z, &w, err, sizeof(err)) || ags_writer_write(w, ev, cnt) ||
                ags_writer_close(w, 1, err, sizeof(err)))
                return 1;
            ags_reader_t *r;
            ags_event_t *buf = malloc(BATCH * sizeof(ags_event_t));
            for (int pass = 0; pass < 2; pass++) { /* first pass warms the page cache */
                if (ags_reader_open(p, AGS_FMT_AUTO, &r, err, sizeof(err)))
                    return 1;
                size_t k, tot = 0;
                double t0 = now();
                while ((k = ags_reader_next(r, buf, BATCH)) > 0)
                    tot += k;
                double rate = (double)tot / (now() - t0);
                ags_reader_close(r);
                if (pass)
                    printf(".agt%s decode: %.1f M records/s (%zu records)\n", z ? "+zstd" : "", rate / 1e6, tot);
            }
            free(buf);
            remove(p);
        }
        free(ev);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %.0f MiB (includes the pre-generated event arrays)\n", ru.ru_maxrss / 1024.0);
    return 0;
}
