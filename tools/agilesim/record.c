/* agilesim record — run a program under Valgrind Lackey, following its children, and convert
 * the logs on the fly.
 * Model notes: Valgrind (--trace-children=yes --log-socket) gives every traced process image
 * its own TCP connection to a listener on loopback; its "==PID==" banner names it. A thread per
 * connection converts the stream into a compact per-connection spool (.agt); no text log
 * reaches the disk. At the end the spools are merged into one trace: a child's events are
 * placed at its parent's fork (the parent waits for it, as a shell does), a later connection
 * of the same pid is an exec, and a process's last connection ends with an exit event.
 * Simplified: Valgrind writes a child's output between fork and exec into its parent's
 * connection, interleaved; those few lines are attributed to the parent, and malformed
 * interleavings are skipped (counted in the summary), a fork being read from what is left of
 * its line; a process whose fork line is lost altogether is placed as a child of the traced
 * command before its exit (exact for a shell's children). Threads are not told apart. */
#define _GNU_SOURCE
#include "agilesim/agilesim.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define MAXCONN 4096

typedef struct {
    int fd;
    pthread_t th;
    char spool[4200];
    uint32_t pid;
    uint64_t events, skipped, salvaged;
    int rc;
    char err[512];
    volatile int done;
    int used;
} conn_t;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *conn_main(void *arg)
{
    conn_t *c = arg;
    ags_reader_t *r;
    ags_writer_t *w;
    char name[64];
    snprintf(name, sizeof(name), "valgrind connection");
    if (ags_reader_open_fd(c->fd, name, AGS_FMT_LACKEY, &r, c->err, sizeof(c->err))) {
        c->rc = -1;
        c->done = 1;
        return NULL;
    }
    ags_reader_set_lenient(r, 1);
    if (ags_writer_open(c->spool, 0, &w, c->err, sizeof(c->err))) {
        ags_reader_close(r);
        c->rc = -1;
        c->done = 1;
        return NULL;
    }
    ags_event_t *buf = malloc(4096 * sizeof(ags_event_t));
    size_t n;
    while (buf && (n = ags_reader_next(r, buf, 4096)) > 0) {
        if (!c->pid)
            c->pid = buf[0].pid;
        c->events += n;
        if (ags_writer_write(w, buf, n)) {
            c->rc = -1;
            break;
        }
    }
    const char *msg;
    if (ags_reader_error(r, &msg)) {
        snprintf(c->err, sizeof(c->err), "%s", msg);
        c->rc = -1;
    }
    c->skipped = ags_reader_skipped(r);
    c->salvaged = ags_reader_salvaged(r);
    ags_reader_close(r);
    if (ags_writer_close(w, c->rc == 0, c->rc ? NULL : c->err, sizeof(c->err)))
        c->rc = -1;
    free(buf);
    c->done = 1;
    return NULL;
}

typedef struct {
    conn_t *conns;
    size_t n;
    ags_writer_t *out;
    uint8_t *visited; /* per connection */
    int err;
    uint64_t recovered; /* processes placed without their fork line */
} merge_t;

static int write_ev(merge_t *m, unsigned type, uint32_t pid, uint64_t arg)
{
    ags_event_t e;
    memset(&e, 0, sizeof(e));
    e.type = (uint8_t)type;
    e.pid = pid;
    e.arg = arg;
    return ags_writer_write(m->out, &e, 1);
}

static int has_conn(merge_t *m, uint32_t pid)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->conns[i].used && m->conns[i].pid == pid && !m->visited[i])
            return 1;
    return 0;
}

static int emit_proc(merge_t *m, uint32_t pid, int depth);

/* Processes whose fork line Valgrind garbled beyond repair (a child writes to its parent's log
 * until it execs) have an image of their own but no fork event. They are placed as children of
 * the traced command, before its exit: exact for a shell's children, an approximation deeper in
 * the tree (their parent is not in the log). */
static int emit_lost(merge_t *m, uint32_t top)
{
    for (size_t i = 0; i < m->n; i++) {
        conn_t *c = &m->conns[i];
        if (!c->used || m->visited[i] || c->pid == top)
            continue;
        m->recovered++;
        if (write_ev(m, AGS_EV_FORK, top, c->pid) || emit_proc(m, c->pid, 1) || write_ev(m, AGS_EV_SWITCH, top, 0))
            return -1;
    }
    return 0;
}

static int emit_proc(merge_t *m, uint32_t pid, int depth)
{
    int first = 1, exited = 0;
    for (size_t i = 0; i < m->n; i++) {
        conn_t *c = &m->conns[i];
        if (!c->used || c->pid != pid || m->visited[i])
            continue;
        m->visited[i] = 1;
        /* a forked child gets a connection of its own only once it execs (before that Valgrind
         * writes into the parent's), so each of its connections starts with an exec */
        if ((!first || depth > 0) && write_ev(m, AGS_EV_EXEC, pid, 0))
            return -1;
        first = 0;
        ags_reader_t *r;
        char err[512];
        if (ags_reader_open(c->spool, AGS_FMT_AGT, &r, err, sizeof(err)))
            return -1;
        ags_event_t *buf = malloc(4096 * sizeof(ags_event_t));
        size_t n;
        while (buf && (n = ags_reader_next(r, buf, 4096)) > 0) {
            size_t from = 0;
            for (size_t k = 0; k < n; k++) {
                if (buf[k].type == AGS_EV_EXIT && buf[k].pid == pid && !exited) {
                    exited = 1;
                    if (depth == 0 && (ags_writer_write(m->out, buf + from, k - from) || emit_lost(m, pid)))
                        goto fail;
                    if (depth == 0)
                        from = k;
                }
                if (buf[k].type != AGS_EV_FORK)
                    continue;
                uint32_t child = (uint32_t)buf[k].arg;
                if (ags_writer_write(m->out, buf + from, k + 1 - from))
                    goto fail;
                from = k + 1;
                if (depth < 64 && has_conn(m, child)) {
                    if (emit_proc(m, child, depth + 1))
                        goto fail;
                } else if (write_ev(m, AGS_EV_EXIT, child, 0)) { /* no image of its own: it ended */
                    goto fail;
                }
                if (write_ev(m, AGS_EV_SWITCH, pid, 0))
                    goto fail;
            }
            if (ags_writer_write(m->out, buf + from, n - from))
                goto fail;
        }
        free(buf);
        ags_reader_close(r);
        continue;
    fail:
        free(buf);
        ags_reader_close(r);
        return -1;
    }
    if (exited)
        return 0;
    return (depth == 0 && emit_lost(m, pid)) ? -1 : write_ev(m, AGS_EV_EXIT, pid, 0);
}

int ags_cli_record(const char *output, int zstd, int quiet, char **cmd, volatile sig_atomic_t *stop)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sa);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 128) ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl)) {
        fprintf(stderr, "agilesim: record: cannot listen on loopback: %s\n", strerror(errno));
        return 1;
    }
    ags_writer_t *w;
    char err[512];
    if (ags_writer_open(output, zstd, &w, err, sizeof(err))) {
        fprintf(stderr, "agilesim: %s\n", err);
        close(lfd);
        return 2;
    }
    pid_t child = fork();
    if (child < 0) {
        fprintf(stderr, "agilesim: record: fork: %s\n", strerror(errno));
        ags_writer_close(w, 0, NULL, 0);
        return 1;
    }
    if (child == 0) {
        close(lfd);
        char logsock[64];
        snprintf(logsock, sizeof(logsock), "--log-socket=127.0.0.1:%u", ntohs(sa.sin_port));
        size_t n = 0;
        while (cmd[n])
            n++;
        char **av = calloc(n + 7, sizeof(char *));
        av[0] = "valgrind";
        av[1] = "--tool=lackey";
        av[2] = "--trace-mem=yes";
        av[3] = "--trace-syscalls=yes";
        av[4] = "--trace-children=yes";
        av[5] = logsock;
        for (size_t i = 0; i < n; i++)
            av[6 + i] = cmd[i];
        execvp("valgrind", av);
        fprintf(stderr, "agilesim: record: cannot run valgrind: %s\n", strerror(errno));
        _exit(127);
    }
    conn_t *conns = calloc(MAXCONN, sizeof(conn_t));
    size_t nconn = 0;
    int wst = 0, exited = 0;
    double t_exit = 0;
    for (;;) {
        struct pollfd pfd = { lfd, POLLIN, 0 };
        int pr = poll(&pfd, 1, 100);
        if (pr > 0 && (pfd.revents & POLLIN) && nconn < MAXCONN) {
            int fd = accept(lfd, NULL, NULL);
            if (fd >= 0) {
                conn_t *c = &conns[nconn];
                c->fd = fd;
                c->used = 1;
                snprintf(c->spool, sizeof(c->spool), "%s.spool%zu", output, nconn);
                if (pthread_create(&c->th, NULL, conn_main, c)) {
                    close(fd);
                    c->used = 0;
                } else {
                    nconn++;
                }
            }
        }
        if (!exited) {
            pid_t r = waitpid(child, &wst, WNOHANG);
            if (r == child) {
                exited = 1;
                t_exit = mono();
            }
        } else {
            int busy = 0;
            for (size_t i = 0; i < nconn; i++)
                busy |= !conns[i].done;
            if (!busy && mono() - t_exit > 0.3)
                break;
        }
    }
    close(lfd);
    for (size_t i = 0; i < nconn; i++)
        pthread_join(conns[i].th, NULL);
    int rc = 0;
    uint64_t events = 0, skipped = 0, salvaged = 0;
    for (size_t i = 0; i < nconn; i++) {
        if (conns[i].rc) {
            fprintf(stderr, "agilesim: record: %s\n", conns[i].err);
            rc = 1;
        }
        if (!conns[i].events)
            conns[i].used = 0; /* an empty connection */
        events += conns[i].events;
        skipped += conns[i].skipped;
        salvaged += conns[i].salvaged;
    }
    if (!rc && WIFEXITED(wst) && WEXITSTATUS(wst) == 127 && !events) {
        fprintf(stderr, "agilesim: record: valgrind could not run %s\n", cmd[0]);
        rc = 1;
    }
    if (!rc && !events) {
        fprintf(stderr, "agilesim: record: no trace came from valgrind\n");
        rc = 1;
    }
    merge_t m = { conns, nconn, w, calloc(nconn + 1, 1), 0, 0 };
    if (getenv("AGS_RECORD_DEBUG"))
        for (size_t i = 0; i < nconn; i++)
            fprintf(stderr, "agilesim: record: connection %zu: pid %u, %llu events, %llu lines skipped%s\n", i,
                    conns[i].pid, (unsigned long long)conns[i].events, (unsigned long long)conns[i].skipped,
                    conns[i].used ? "" : " (unused)");
    if (!rc) {
        /* the first connection is the top process; then any process no fork reached */
        for (size_t i = 0; i < nconn && !rc; i++)
            if (conns[i].used && !m.visited[i] && emit_proc(&m, conns[i].pid, 0))
                rc = 1;
    }
    for (size_t i = 0; i < nconn; i++)
        unlink(conns[i].spool);
    if (rc) {
        ags_writer_close(w, 0, NULL, 0);
    } else if (ags_writer_close(w, 1, err, sizeof(err))) {
        fprintf(stderr, "agilesim: %s\n", err);
        rc = 1;
    }
    if (!rc && !quiet) {
        size_t procs = 0;
        for (size_t i = 0; i < nconn; i++)
            procs += conns[i].used;
        fprintf(stderr, "agilesim: recorded %llu events of %s (%zu process images) to %s%s", (unsigned long long)events,
                cmd[0], procs, output, *stop ? " (interrupted)" : "");
        if (skipped)
            fprintf(stderr, "; %llu interleaved log lines skipped", (unsigned long long)skipped);
        if (salvaged)
            fprintf(stderr, "; %llu fork(s) read from garbled lines", (unsigned long long)salvaged);
        if (m.recovered)
            fprintf(stderr, "; %llu process(es) whose fork line was lost placed under %s", (unsigned long long)m.recovered,
                    cmd[0]);
        fputc('\n', stderr);
        if (WIFEXITED(wst) && WEXITSTATUS(wst))
            fprintf(stderr, "agilesim: note: %s exited with status %d\n", cmd[0], WEXITSTATUS(wst));
    }
    free(m.visited);
    free(conns);
    if (rc)
        return 1;
    return *stop ? 130 : 0;
}
