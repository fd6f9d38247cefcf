/* agilesim record with agilesim's own Valgrind tool (agstrace, tools/vgtrace/).
 * Model notes: valgrind --tool=agstrace --trace-children=yes runs the command; every traced
 * process writes its records, in chunks of at most PIPE_BUF bytes tagged with its pid, into one
 * FIFO in a private directory (mode 0700 under $TMPDIR) that only this recorder reads. Chunks
 * of one process arrive in order; those of different processes interleave. The merge streams:
 * the process being written out is emitted as its chunks arrive; at a fork record its child is
 * emitted in full (the parent waits for it, as a shell does), then a switch back to the parent;
 * what other processes record meanwhile is queued (in memory up to AGS_REC_MEM, then in
 * per-process spool files in the private directory). A new image of a known pid (its START
 * record without the fork flag) is an exec; a process's exit record is its exit (one is added
 * if the process was killed). A process no fork names (none is expected: forks come from the
 * clone/fork/vfork wrappers) is placed under the traced command before its exit.
 * Simplified: processes that ran concurrently are serialized at the forks; threads of a process
 * are one address space (their tids are kept on the accesses). */
#define _GNU_SOURCE
#include "agilesim/agilesim.h"
#include "agilesim/vgstream.h"
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define BLKW 8192u                       /* words per queue block (64 KiB) */
#define AGS_REC_MEM (256ull << 20)       /* bytes queued in memory before spooling to disk */
#define EVBUF 4096

typedef struct blk {
    struct blk *next;
    uint32_t n;
    uint64_t w[BLKW];
} blk_t;

typedef struct proc {
    uint32_t pid, tid;
    struct proc *parent;
    int started, placed, ended, images;
    int exit_seen;                       /* its exit record has arrived: later chunks of the pid are a new process */
    blk_t *head, *tail;                  /* queued in memory (newer than the spool) */
    blk_t *rblk;                         /* being consumed */
    uint32_t rpos;
    int spool_fd;                        /* -1: none */
    uint64_t spool_wr, spool_rd;         /* bytes */
    uint64_t mem_words;
} proc_t;

typedef struct {
    const ags_rec_opts_t *o;
    ags_writer_t *w;
    char dir[PATH_MAX], fifo[PATH_MAX + 16];
    proc_t **procs;
    size_t nprocs, cap;
    proc_t *cur, *top;
    uint64_t mem_bytes, spooled_bytes, spool_peak;
    ags_event_t ev[EVBUF];
    size_t nev;
    uint64_t instructions, accesses, events, skipped_instr, recovered;
    int limit_hit, err;
    char msg[600];
} rec_t;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void __attribute__((format(printf, 2, 3))) rfail(rec_t *r, const char *fmt, ...)
{
    if (!r->err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
        va_end(ap);
        r->err = 1;
    }
}

/* ------------------------------------------------------------------ processes and queues */

static proc_t *proc_new(rec_t *r, uint32_t pid)
{
    if (r->nprocs == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 64;
        proc_t **np = realloc(r->procs, nc * sizeof(*np));
        if (!np)
            return NULL;
        r->procs = np;
        r->cap = nc;
    }
    proc_t *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->pid = pid;
    p->spool_fd = -1;
    r->procs[r->nprocs++] = p;
    return p;
}

/* The live process of this pid: the newest whose exit record has not arrived (a pid the kernel
 * reuses later is a new process). */
static proc_t *proc_find(rec_t *r, uint32_t pid)
{
    for (size_t i = r->nprocs; i-- > 0;)
        if (r->procs[i]->pid == pid && !r->procs[i]->exit_seen)
            return r->procs[i];
    return NULL;
}

static int queue_empty(const proc_t *p)
{
    return !p->rblk && !p->head && p->spool_rd == p->spool_wr;
}

/* Move a process's oldest in-memory blocks to its spool file (they are older than the rest). */
static void spill(rec_t *r, proc_t *p)
{
    if (p->spool_fd < 0) {
        char path[PATH_MAX + 32];
        static unsigned seq;
        snprintf(path, sizeof(path), "%s/spool.%u.%u", r->dir, p->pid, seq++);
        p->spool_fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (p->spool_fd < 0) {
            rfail(r, "cannot create a spool file in %s: %s", r->dir, strerror(errno));
            return;
        }
        unlink(path); /* anonymous from now on: nothing to clean up */
    }
    while (p->head) {
        blk_t *b = p->head;
        size_t bytes = sizeof(uint32_t) + b->n * sizeof(uint64_t);
        if (pwrite(p->spool_fd, &b->n, sizeof(uint32_t), (off_t)p->spool_wr) != sizeof(uint32_t) ||
            pwrite(p->spool_fd, b->w, b->n * sizeof(uint64_t), (off_t)(p->spool_wr + sizeof(uint32_t))) !=
                (ssize_t)(b->n * sizeof(uint64_t))) {
            rfail(r, "cannot write a spool file in %s: %s", r->dir, strerror(errno ? errno : ENOSPC));
            return;
        }
        p->spool_wr += bytes;
        r->spooled_bytes += bytes;
        if (r->spooled_bytes > r->spool_peak)
            r->spool_peak = r->spooled_bytes;
        p->head = b->next;
        if (!p->head)
            p->tail = NULL;
        r->mem_bytes -= sizeof(blk_t);
        p->mem_words -= b->n;
        free(b);
    }
}

static void enqueue(rec_t *r, proc_t *p, const uint64_t *w, uint32_t n)
{
    if (!p->tail || p->tail->n + n > BLKW) {
        blk_t *b = malloc(sizeof(blk_t));
        if (!b) {
            rfail(r, "out of memory queueing process %u", p->pid);
            return;
        }
        b->next = NULL;
        b->n = 0;
        if (p->tail)
            p->tail->next = b;
        else
            p->head = b;
        p->tail = b;
        r->mem_bytes += sizeof(blk_t);
    }
    memcpy(p->tail->w + p->tail->n, w, n * sizeof(uint64_t));
    p->tail->n += n;
    p->mem_words += n;
    if (r->mem_bytes > AGS_REC_MEM) {
        proc_t *big = NULL; /* spill the largest queue, never the one being written out */
        for (size_t i = 0; i < r->nprocs; i++)
            if (r->procs[i] != r->cur && (!big || r->procs[i]->mem_words > big->mem_words))
                big = r->procs[i];
        if (big && big->head)
            spill(r, big);
    }
}

/* The next block to consume: the spool's oldest, else the memory queue's head. */
static blk_t *next_block(rec_t *r, proc_t *p)
{
    if (p->spool_rd < p->spool_wr) {
        blk_t *b = malloc(sizeof(blk_t));
        uint32_t n;
        if (!b || pread(p->spool_fd, &n, sizeof(n), (off_t)p->spool_rd) != sizeof(n) || n > BLKW ||
            pread(p->spool_fd, b->w, n * sizeof(uint64_t), (off_t)(p->spool_rd + sizeof(n))) != (ssize_t)(n * sizeof(uint64_t))) {
            free(b);
            rfail(r, "cannot read back a spool file in %s: %s", r->dir, strerror(errno ? errno : EIO));
            return NULL;
        }
        b->n = n;
        b->next = NULL;
        p->spool_rd += sizeof(n) + n * sizeof(uint64_t);
        r->spooled_bytes -= sizeof(n) + n * sizeof(uint64_t);
        r->mem_bytes += sizeof(blk_t);
        return b;
    }
    blk_t *b = p->head;
    if (b) {
        p->head = b->next;
        if (!p->head)
            p->tail = NULL;
        p->mem_words -= b->n;
    }
    return b;
}

/* ------------------------------------------------------------------ emitting events */

static void flush_ev(rec_t *r)
{
    if (r->nev && !r->err && ags_writer_write(r->w, r->ev, r->nev))
        rfail(r, "%s: write failed: %s", r->o->output, strerror(errno ? errno : EIO));
    r->nev = 0;
}

static ags_event_t *ev_new(rec_t *r)
{
    if (r->nev == EVBUF)
        flush_ev(r);
    ags_event_t *e = &r->ev[r->nev++];
    memset(e, 0, sizeof(*e));
    return e;
}

static void ev_sys(rec_t *r, unsigned type, uint32_t pid, uint64_t addr, uint64_t len, uint64_t arg, uint64_t arg2)
{
    if (r->limit_hit)
        return;
    ags_event_t *e = ev_new(r);
    e->type = (uint8_t)type;
    e->pid = pid;
    e->addr = addr;
    e->len = len;
    e->arg = arg;
    e->arg2 = arg2;
    r->events++;
}

static inline uint64_t sext56(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 8) >> 8);
}

static void ev_acc(rec_t *r, proc_t *p, unsigned kind, unsigned size, uint64_t addr)
{
    if (kind == AGS_VGS_FETCH) {
        if (r->instructions >= r->o->max_instructions) {
            r->limit_hit = 1;
            return;
        }
        r->instructions++;
    }
    if (r->limit_hit)
        return;
    if (r->instructions <= r->o->skip_instructions) {
        r->skipped_instr += kind == AGS_VGS_FETCH;
        return;
    }
    ags_event_t *e;
    if (r->nev == EVBUF)
        flush_ev(r);
    e = &r->ev[r->nev++];
    e->type = AGS_EV_ACCESS;
    e->kind = (uint8_t)kind;
    e->size = (uint16_t)size;
    e->pid = p->pid;
    e->icount = kind == AGS_VGS_FETCH;
    e->tid = p->tid;
    e->addr = addr;
    e->len = e->arg = e->arg2 = 0;
    r->accesses++;
    r->events++;
}

/* Consume records of the current process while they are there. Returns 1 if it moved on to
 * another process (a fork, an exit), 0 if the current one has nothing more for now. */
static int run_records(rec_t *r, int eof)
{
    proc_t *p = r->cur;
    for (;;) {
        if (r->err)
            return 0;
        if (!p->rblk) {
            p->rblk = next_block(r, p);
            p->rpos = 0;
            if (!p->rblk)
                break;
        }
        blk_t *b = p->rblk;
        while (p->rpos < b->n) {
            uint64_t w = b->w[p->rpos];
            unsigned top = (unsigned)(w >> 56);
            if (top) {
                ev_acc(r, p, top & 3, top >> 2, sext56(w));
                p->rpos++;
                continue;
            }
            unsigned type = (unsigned)(w & 0xff), na = (unsigned)((w >> 8) & 0xff);
            if (p->rpos + 1 + na > b->n) {
                rfail(r, "a record of process %u runs past its chunk (a corrupt stream)", p->pid);
                return 0;
            }
            const uint64_t *a = &b->w[p->rpos + 1];
            switch (type) {
            case AGS_VGS_START:
                if (na >= 2 && a[1] == 0 && p->images > 0)
                    ev_sys(r, AGS_EV_EXEC, p->pid, 0, 0, 0, 0);
                p->images++;
                break;
            case AGS_VGS_TID:
                if (na >= 1)
                    p->tid = (uint32_t)a[0];
                break;
            case AGS_VGS_MMAP:
                if (na >= 3)
                    ev_sys(r, AGS_EV_MMAP, p->pid, a[0], a[1], a[2] & 7, 0);
                break;
            case AGS_VGS_MUNMAP:
                if (na >= 2)
                    ev_sys(r, AGS_EV_MUNMAP, p->pid, a[0], a[1], 0, 0);
                break;
            case AGS_VGS_MPROTECT:
                if (na >= 3)
                    ev_sys(r, AGS_EV_MPROTECT, p->pid, a[0], a[1], a[2] & 7, 0);
                break;
            case AGS_VGS_BRK:
                if (na >= 1)
                    ev_sys(r, AGS_EV_BRK, p->pid, a[0], 0, 0, 0);
                break;
            case AGS_VGS_MREMAP:
                if (na >= 4)
                    ev_sys(r, AGS_EV_MREMAP, p->pid, a[0], a[1], a[2], a[3]);
                break;
            case AGS_VGS_DONTNEED: /* the pages are dropped, the mapping stays */
                if (na >= 3 && a[1]) {
                    uint64_t s = a[0] & ~4095ull, l = ((a[0] + a[1] + 4095) & ~4095ull) - s;
                    ev_sys(r, AGS_EV_MUNMAP, p->pid, s, l, 0, 0);
                    ev_sys(r, AGS_EV_MMAP, p->pid, s, l, a[2] & 7, 0);
                }
                break;
            case AGS_VGS_BIGACC:
                if (na >= 3)
                    ev_acc(r, p, (unsigned)a[1] & 3, a[2] > 65535 ? 65535 : (unsigned)a[2], a[0]);
                break;
            case AGS_VGS_FORK:
                if (na >= 1) {
                    uint32_t cpid = (uint32_t)a[0];
                    /* the child's whole stream (exit included) may have arrived before this
                     * record: the newest entry of the pid that no fork has placed yet */
                    proc_t *c = NULL;
                    for (size_t i = r->nprocs; i-- > 0 && !c;)
                        if (r->procs[i]->pid == cpid && !r->procs[i]->placed)
                            c = r->procs[i];
                    if (!c && !(c = proc_new(r, cpid))) {
                        rfail(r, "out of memory");
                        return 0;
                    }
                    p->rpos += 1 + na;
                    ev_sys(r, AGS_EV_FORK, p->pid, 0, 0, cpid, 0);
                    c->placed = 1;
                    c->parent = p;
                    r->cur = c;
                    return 1;
                }
                break;
            case AGS_VGS_EXIT:
                /* before the traced command exits: the processes no fork placed */
                if (!p->parent) {
                    for (size_t i = 0; i < r->nprocs; i++) {
                        proc_t *q = r->procs[i];
                        if (q != p && !q->placed && q->started) {
                            q->placed = 1;
                            q->parent = p;
                            r->recovered++;
                            ev_sys(r, AGS_EV_FORK, p->pid, 0, 0, q->pid, 0);
                            r->cur = q;
                            return 1;
                        }
                    }
                }
                p->rpos += 1 + na;
                ev_sys(r, AGS_EV_EXIT, p->pid, 0, 0, 0, 0);
                goto finished;
            default: /* ROI marks and unknown records: nothing to simulate */
                break;
            }
            p->rpos += 1 + na;
        }
        free(p->rblk);
        r->mem_bytes -= sizeof(blk_t);
        p->rblk = NULL;
    }
    if (!eof)
        return 0;
    /* the end of the stream: a process without an exit record was killed */
    ev_sys(r, AGS_EV_EXIT, p->pid, 0, 0, 0, 0);
finished:
    p->ended = 1;
    if (p->parent) {
        r->cur = p->parent;
        ev_sys(r, AGS_EV_SWITCH, r->cur->pid, 0, 0, 0, 0);
    } else {
        r->cur = NULL;
    }
    return 1;
}

/* Emit whatever can be emitted now; at eof, everything. */
static void pump(rec_t *r, int eof)
{
    for (;;) {
        if (r->err)
            return;
        if (!r->cur) {
            /* the next process with a stream of its own and no place yet: a new tree */
            for (size_t i = 0; i < r->nprocs && !r->cur; i++) {
                proc_t *q = r->procs[i];
                if (!q->placed && q->started && (eof || !queue_empty(q))) {
                    q->placed = 1;
                    if (!r->top)
                        r->top = q;
                    r->cur = q;
                }
            }
            if (!r->cur)
                return;
        }
        if (!run_records(r, eof))
            return;
    }
}

/* A chunk from the FIFO: queue it to its process (a START of an unknown pid is a new one). */
static void take_chunk(rec_t *r, uint32_t pid, const uint64_t *w, uint32_t n)
{
    proc_t *p = proc_find(r, pid);
    if (!p) {
        p = proc_new(r, pid);
        if (!p) {
            rfail(r, "out of memory");
            return;
        }
    }
    p->started = 1;
    if (getenv("AGS_RECORD_DEBUG"))
        for (uint32_t i = 0; i < n; i++)
            if (!(w[i] >> 56)) {
                fprintf(stderr, "chunk pid %u proc %p ctl %u args %u:", pid, (void *)p, (unsigned)(w[i] & 0xff), (unsigned)((w[i] >> 8) & 0xff));
                for (unsigned k = 0; k < ((w[i] >> 8) & 0xff); k++)
                    fprintf(stderr, " %llx", (unsigned long long)w[i + 1 + k]);
                fputc('\n', stderr);
                i += (uint32_t)((w[i] >> 8) & 0xff);
            }
    enqueue(r, p, w, n);
    /* the tool flushes right after a process's exit record: it ends the chunk */
    if (n >= 2 && w[n - 2] == AGS_VGS_CTL(AGS_VGS_EXIT, 1))
        p->exit_seen = 1;
}

/* ------------------------------------------------------------------ finding the tool */

static int tool_dir(char *out, size_t len)
{
    const char *env = getenv("AGILESIM_VALGRIND_LIB");
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    const char *cands[3] = { env, NULL, NULL };
    char c1[PATH_MAX + 64], c2[PATH_MAX + 64];
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = 0;
        snprintf(c1, sizeof(c1), "%s/vglib", exe);                         /* the build tree */
        snprintf(c2, sizeof(c2), "%s/../libexec/agilesim/valgrind", exe); /* an installed prefix */
        cands[1] = c1;
        cands[2] = c2;
    }
    for (int i = 0; i < 3; i++) {
        char t[PATH_MAX + 96];
        if (!cands[i])
            continue;
        snprintf(t, sizeof(t), "%s/agstrace-amd64-linux", cands[i]);
        if (access(t, X_OK) == 0) {
            snprintf(out, len, "%s", cands[i]);
            return 0;
        }
        if (i == 0)
            return -1; /* an explicit setting that does not hold the tool */
    }
    return -1;
}

static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    char buf[PATH_MAX];
    while (*path) {
        const char *c = strchr(path, ':');
        size_t l = c ? (size_t)(c - path) : strlen(path);
        snprintf(buf, sizeof(buf), "%.*s/%s", (int)l, path, prog);
        if (l && access(buf, X_OK) == 0)
            return 1;
        path += l + (c != NULL);
    }
    return 0;
}

/* ------------------------------------------------------------------ the recorder */

/* Signal valgrind and every traced process: their process group, or (sharing ours) each live
 * traced pid that is still in our group (never another process that reused a pid). */
static void stop_all(rec_t *r, pid_t child, int own_group, int sig)
{
    if (own_group) {
        kill(-child, sig);
        return;
    }
    kill(child, sig);
    pid_t me = getpgrp();
    for (size_t i = 0; i < r->nprocs; i++) {
        proc_t *p = r->procs[i];
        if (!p->exit_seen && p->pid > 1 && getpgid((pid_t)p->pid) == me)
            kill((pid_t)p->pid, sig);
    }
}

static void progress(rec_t *r, double t0, int final)
{
    double dt = mono() - t0;
    fprintf(stderr, "\ragilesim: record: %.1f M instructions, %.1f M accesses, %.1f M accesses/s, %.1f MB written%s",
            r->instructions / 1e6, r->accesses / 1e6, dt > 0 ? r->accesses / dt / 1e6 : 0.0,
            ags_writer_bytes(r->w) / 1e6, final ? "\n" : "   ");
}

int ags_cli_record_check(char *msg, size_t len)
{
    char lib[PATH_MAX];
    if (!on_path("valgrind")) {
        snprintf(msg, len, "valgrind is not installed (make deps installs it)");
        return -1;
    }
    if (tool_dir(lib, sizeof(lib))) {
        snprintf(msg, len, "agilesim's Valgrind tool (agstrace) is not built: it needs the valgrind package's tool "
                           "headers and libraries (make deps)%s; record --recorder lackey uses Lackey instead",
                 getenv("AGILESIM_VALGRIND_LIB") ? ", or AGILESIM_VALGRIND_LIB names a folder without it" : "");
        return -1;
    }
    return 0;
}

int ags_cli_record_vg(const ags_rec_opts_t *o, char **cmd, volatile sig_atomic_t *stop)
{
    static rec_t rec;
    rec_t *r = &rec;
    memset(r, 0, sizeof(*r));
    r->o = o;
    char lib[PATH_MAX];
    if (ags_cli_record_check(r->msg, sizeof(r->msg)) || tool_dir(lib, sizeof(lib))) {
        fprintf(stderr, "agilesim: record: %s\n", r->msg);
        return 1;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(r->dir, sizeof(r->dir), "%s/agilesim-record.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(r->dir)) {
        fprintf(stderr, "agilesim: record: cannot create a private folder in %s: %s\n", tmp && *tmp ? tmp : "/tmp",
                strerror(errno));
        return 1;
    }
    snprintf(r->fifo, sizeof(r->fifo), "%.4000s/stream", r->dir);
    int rfd = -1, keep = -1;
    if (mkfifo(r->fifo, 0600) || (rfd = open(r->fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
        (keep = open(r->fifo, O_WRONLY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "agilesim: record: cannot create the FIFO %s: %s\n", r->fifo, strerror(errno));
        if (rfd >= 0)
            close(rfd);
        unlink(r->fifo);
        rmdir(r->dir);
        return 1;
    }
    char err[512];
    int wrc = o->out_fd >= 0 ? ags_writer_open_fd(o->out_fd, o->output, o->zstd, &r->w, err, sizeof(err))
                             : ags_writer_open(o->output, o->zstd, &r->w, err, sizeof(err));
    if (wrc) {
        fprintf(stderr, "agilesim: %s\n", err);
        close(rfd);
        close(keep);
        unlink(r->fifo);
        rmdir(r->dir);
        return 2;
    }
    size_t n = 0;
    while (cmd[n])
        n++;
    char **av = calloc(n + 9, sizeof(char *));
    char outopt[PATH_MAX + 32], libenv[PATH_MAX + 32];
    snprintf(outopt, sizeof(outopt), "--agilesim-out=%.4050s", r->fifo);
    snprintf(libenv, sizeof(libenv), "VALGRIND_LIB=%s", lib);
    size_t k = 0;
    av[k++] = "valgrind";
    av[k++] = "-q";
    av[k++] = "--tool=agstrace";
    av[k++] = "--trace-children=yes";
    av[k++] = "--vgdb=no"; /* no gdbserver FIFOs in TMPDIR (left behind by a killed valgrind) */
    av[k++] = outopt;
    if (o->roi)
        av[k++] = "--roi=yes";
    for (size_t i = 0; i < n; i++)
        av[k++] = cmd[i];
    /* the child learns whether valgrind started through a close-on-exec pipe */
    int ep[2];
    if (!av || pipe2(ep, O_CLOEXEC)) {
        fprintf(stderr, "agilesim: record: %s\n", strerror(errno));
        return 1;
    }
    /* A program reading the terminal must stay in the terminal's foreground group (else SIGTTIN
     * stops it): then the traced processes are stopped one by one, by the pids they report. */
    int own_group = !isatty(0);
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t child = fork();
    if (child == 0) {
        if (own_group)
            setpgid(0, 0); /* valgrind and the traced processes: one group to stop */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(ep[0]);
        putenv(libenv);
        execvp("valgrind", av);
        int e = errno;
        if (write(ep[1], &e, sizeof(e)) < 0)
            _exit(127);
        _exit(127);
    }
    if (child > 0 && own_group)
        setpgid(child, child);
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(ep[1]);
    if (child < 0) {
        fprintf(stderr, "agilesim: record: fork: %s\n", strerror(errno));
        ags_writer_close(r->w, 0, NULL, 0);
        return 1;
    }
    int e = 0;
    if (read(ep[0], &e, sizeof(e)) == sizeof(e)) {
        fprintf(stderr, "agilesim: record: cannot run valgrind: %s\n", strerror(e));
        waitpid(child, NULL, 0);
        ags_writer_close(r->w, 0, NULL, 0);
        close(rfd);
        close(keep);
        unlink(r->fifo);
        rmdir(r->dir);
        return 1;
    }
    close(ep[0]);
    free(av);

    /* read the FIFO until every writer has closed it (the traced processes, then our own end,
     * closed when valgrind's main process has exited) */
    size_t cap = 1u << 20, have = 0;
    uint8_t *buf = malloc(cap);
    int wst = 0, exited = 0, eof = 0, killed = 0;
    double t0 = mono(), t_stop = 0, t_prog = t0;
    int show = !o->quiet && isatty(2);
    while (!eof && buf) {
        struct pollfd pfd = { rfd, POLLIN, 0 };
        int pr = poll(&pfd, 1, 100);
        if (pr > 0) {
            ssize_t got;
            while ((got = read(rfd, buf + have, cap - have)) > 0) {
                have += (size_t)got;
                size_t pos = 0;
                while (have - pos >= 8) {
                    uint64_t h;
                    memcpy(&h, buf + pos, 8);
                    uint32_t nw = AGS_VGS_HDR_N(h);
                    if (AGS_VGS_HDR_MAGIC(h) != AGS_VGS_MAGIC || nw == 0 || nw > AGS_VGS_CHUNK_WORDS) {
                        rfail(r, "a corrupt chunk header in the stream from valgrind");
                        break;
                    }
                    if (have - pos < 8 + nw * 8ull)
                        break;
                    take_chunk(r, AGS_VGS_HDR_PID(h), (const uint64_t *)(const void *)(buf + pos + 8), nw);
                    pos += 8 + nw * 8ull;
                }
                memmove(buf, buf + pos, have - pos);
                have -= pos;
                pump(r, 0);
                if (r->err || r->limit_hit)
                    break;
            }
            if (got == 0 && exited)
                eof = 1;
        }
        if (r->err)
            break;
        if (!exited && waitpid(child, &wst, WNOHANG) == child) {
            exited = 1;
            close(keep); /* from now on, EOF once the last traced process has gone */
            keep = -1;
        }
        if ((*stop || r->limit_hit) && !killed) {
            stop_all(r, child, own_group, SIGTERM);
            killed = 1;
            t_stop = mono();
        } else if (killed == 1 && (mono() - t_stop > 2.0 || ags_cli_nsignals > 1)) {
            stop_all(r, child, own_group, SIGKILL);
            killed = 2;
        } else if (killed == 2 && mono() - t_stop > 5.0) {
            break; /* a traced process left the group (setsid) and keeps the FIFO open */
        }
        if (show && mono() - t_prog > 1.0) {
            t_prog = mono();
            progress(r, t0, 0);
        }
    }
    if (!buf)
        rfail(r, "out of memory");
    if (r->err) { /* stop the traced processes; never leave them behind */
        stop_all(r, child, own_group, SIGKILL);
        if (!exited)
            waitpid(child, &wst, 0);
    } else {
        pump(r, 1);
    }
    /* processes of the group that outlived valgrind's main process were drained above */
    if (keep >= 0)
        close(keep);
    close(rfd);
    unlink(r->fifo);
    for (size_t i = 0; i < r->nprocs; i++) {
        proc_t *p = r->procs[i];
        if (p->spool_fd >= 0)
            close(p->spool_fd);
        free(p->rblk);
        while (p->head) {
            blk_t *b = p->head;
            p->head = b->next;
            free(b);
        }
        free(p);
    }
    free(r->procs);
    rmdir(r->dir);
    free(buf);
    flush_ev(r);
    int rc = 0;
    int truncated = r->limit_hit ? AGS_TRUNC_LIMIT : *stop ? AGS_TRUNC_SIGNAL : 0;
    if (!r->err && !r->events) {
        if (WIFEXITED(wst) && WEXITSTATUS(wst) == 127)
            snprintf(r->msg, sizeof(r->msg), "valgrind could not run %s", cmd[0]);
        else if (WIFEXITED(wst) && WEXITSTATUS(wst) == 1 && !*stop)
            snprintf(r->msg, sizeof(r->msg), "valgrind failed to start %s (see its message above)", cmd[0]);
        else
            snprintf(r->msg, sizeof(r->msg), "no trace came from valgrind");
        r->err = 1;
    }
    if (r->err) {
        if (!(o->live && *stop)) /* live: the simulator stopped reading */
            fprintf(stderr, "%sagilesim: record: %s\n", show ? "\n" : "", r->msg);
        ags_writer_close(r->w, 0, NULL, 0);
        return 1;
    }
    if (truncated && ags_writer_mark_truncated(r->w, truncated))
        rc = 1;
    if (show)
        progress(r, t0, 1);
    uint64_t bytes = ags_writer_bytes(r->w);
    if (ags_writer_close(r->w, !rc, err, sizeof(err))) {
        if (!(o->live && *stop)) /* live: the simulator stopped reading */
            fprintf(stderr, "agilesim: %s\n", err);
        return 1;
    }
    if (!o->quiet) {
        size_t nproc = r->nprocs;
        double dt = mono() - t0;
        fprintf(stderr, "agilesim: recorded %llu instructions, %llu accesses and %llu events of %s (%zu processes) "
                        "to %s in %.1f s (%.1f M accesses/s, %.1f MB)",
                (unsigned long long)(r->instructions - r->skipped_instr), (unsigned long long)r->accesses,
                (unsigned long long)r->events, cmd[0], nproc, o->output, dt, dt > 0 ? r->accesses / dt / 1e6 : 0.0,
                bytes / 1e6);
        if (r->skipped_instr)
            fprintf(stderr, "; %llu instructions skipped", (unsigned long long)r->skipped_instr);
        if (r->recovered)
            fprintf(stderr, "; %llu process(es) no fork named placed under %s", (unsigned long long)r->recovered, cmd[0]);
        if (r->spool_peak)
            fprintf(stderr, "; up to %.1f MB spooled in %s", r->spool_peak / 1e6, tmp && *tmp ? tmp : "/tmp");
        if (truncated)
            fprintf(stderr, "; truncated (%s)", truncated == AGS_TRUNC_LIMIT ? "--max-instructions reached" : "stopped by a signal");
        fputc('\n', stderr);
        if (!truncated && WIFEXITED(wst) && WEXITSTATUS(wst))
            fprintf(stderr, "agilesim: note: %s exited with status %d\n", cmd[0], WEXITSTATUS(wst));
    }
    return rc ? 1 : *stop ? EXIT_SIGNAL : 0;
}
