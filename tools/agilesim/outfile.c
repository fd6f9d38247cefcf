/* agilesim command line — output files that are never left half-written. Model notes: none.
 * A regular file (or a new one) is written to an anonymous O_TMPFILE in its directory and linked
 * into place only when complete, so no signal, crash or OOM kill can leave a partial file or a
 * temporary name behind (where O_TMPFILE is not supported: a temporary name, removed on every
 * exit path we control). A symlink is followed: its target is replaced, not the link. A FIFO, a
 * character device or a socket (e.g. /dev/stdout) is written through at the end; "-" is standard
 * output. A directory, an empty path, and a path two outputs (or an output and an input) share
 * are refused before anything is simulated. */
#define _GNU_SOURCE /* O_TMPFILE, linkat */
#include "cli.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Resolve path to the file it names: follow symlinks; a path that does not exist yet resolves
 * through its directory. Returns 0, or -1 with errno. */
static int resolve(const char *path, char *out, size_t len)
{
    char buf[PATH_MAX];
    if (realpath(path, buf)) {
        snprintf(out, len, "%s", buf);
        return 0;
    }
    if (errno != ENOENT)
        return -1;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) { /* a dangling link: create its target */
        char t[PATH_MAX];
        ssize_t n = readlink(path, t, sizeof(t) - 1);
        if (n < 0)
            return -1;
        t[n] = 0;
        const char *slash = strrchr(path, '/');
        int w = t[0] == '/' ? snprintf(out, len, "%s", t)
                            : snprintf(out, len, "%.*s%s", slash ? (int)(slash - path + 1) : 0, path, t);
        if (w < 0 || (size_t)w >= len) {
            errno = ENAMETOOLONG;
            return -1;
        }
        return 0;
    }
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else if (slash)
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    else
        snprintf(dir, sizeof(dir), ".");
    if (!realpath(dir, buf))
        return -1;
    int w = snprintf(out, len, "%s/%s", strcmp(buf, "/") ? buf : "", base);
    if (w < 0 || (size_t)w >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* The named temporaries now open, for ags_out_unlink_named (a signal handler) */
#define NAMED_MAX 8
static char g_named[NAMED_MAX][4200];
static volatile sig_atomic_t g_named_used[NAMED_MAX];

static void named_add(const char *tmp)
{
    for (int i = 0; i < NAMED_MAX; i++)
        if (!g_named_used[i]) {
            snprintf(g_named[i], sizeof(g_named[i]), "%s", tmp);
            g_named_used[i] = 1;
            return;
        }
}

static void named_drop(const char *tmp)
{
    for (int i = 0; i < NAMED_MAX; i++)
        if (g_named_used[i] && !strcmp(g_named[i], tmp))
            g_named_used[i] = 0;
}

void ags_out_unlink_named(void)
{
    for (int i = 0; i < NAMED_MAX; i++)
        if (g_named_used[i])
            unlink(g_named[i]);
}

void ags_out_open(ags_outfile_t *o, const char *path, const char *opt)
{
    memset(o, 0, sizeof(*o));
    o->path = path;
    o->opt = opt;
    if (!path)
        return;
    if (!*path)
        ags_cli_die(EXIT_USAGE, "%s: empty file name", opt);
    if (!strcmp(path, "-")) {
        o->kind = AGS_OUT_STDOUT;
        return;
    }
    if (resolve(path, o->target, sizeof(o->target)))
        ags_cli_die(EXIT_USAGE, "%s %s: cannot write there: %s", opt, path, strerror(errno));
    struct stat st;
    if (stat(o->target, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            ags_cli_die(EXIT_USAGE, "%s %s: is a directory", opt, path);
        if (!S_ISREG(st.st_mode)) { /* a FIFO, a device, a socket: written through at the end */
            if (access(o->target, W_OK))
                ags_cli_die(EXIT_USAGE, "%s %s: cannot write there: %s", opt, path, strerror(errno));
            struct stat out;
            o->kind = fstat(1, &out) == 0 && out.st_dev == st.st_dev && out.st_ino == st.st_ino ? AGS_OUT_STDOUT
                                                                                                : AGS_OUT_THROUGH;
            return;
        }
    }
    o->kind = AGS_OUT_FILE;
    char dir[PATH_MAX];
    const char *slash = strrchr(o->target, '/');
    snprintf(dir, sizeof(dir), "%.*s", slash && slash != o->target ? (int)(slash - o->target) : 1,
             slash ? o->target : ".");
    mode_t um = umask(0);
    umask(um);
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666 & ~um);
    if (fd >= 0) {
        o->anon = 1;
    } else {
        if (snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.XXXXXX", o->target) >= (int)sizeof(o->tmp))
            ags_cli_die(EXIT_USAGE, "%s %s: path too long", opt, path);
        fd = mkstemp(o->tmp);
        if (fd < 0)
            ags_cli_die(EXIT_USAGE, "%s %s: cannot write there: %s", opt, path, strerror(errno));
        named_add(o->tmp);
        fchmod(fd, 0666 & ~um);
    }
    o->f = fdopen(fd, "w");
    if (!o->f)
        ags_cli_die(EXIT_USAGE, "%s %s: %s", opt, path, strerror(errno));
}

FILE *ags_out_stream(ags_outfile_t *o)
{
    if (!o->path)
        return NULL;
    if (o->kind == AGS_OUT_STDOUT)
        return stdout;
    if (o->kind == AGS_OUT_THROUGH && !o->f) {
        o->f = fopen(o->target, "w");
        if (!o->f)
            fprintf(stderr, "agilesim: %s %s: cannot write there: %s\n", o->opt, o->path, strerror(errno));
    }
    return o->f;
}

void ags_out_abort(ags_outfile_t *o)
{
    if (o->f && o->kind == AGS_OUT_FILE) {
        fclose(o->f);
        if (!o->anon) {
            unlink(o->tmp);
            named_drop(o->tmp);
        }
        o->f = NULL;
    }
}

int ags_out_commit(ags_outfile_t *o)
{
    if (!o->path)
        return 0;
    FILE *f = ags_out_stream(o);
    if (!f)
        return -1;
    errno = 0;
    int bad = ferror(f) || fflush(f);
    if (o->kind != AGS_OUT_FILE) {
        if (o->kind == AGS_OUT_THROUGH && fclose(f))
            bad = 1;
        o->f = NULL;
        if (bad)
            fprintf(stderr, "agilesim: %s %s: write failed: %s\n", o->opt, o->path, strerror(errno ? errno : EIO));
        return bad ? -1 : 0;
    }
    if (!bad && fsync(fileno(f)))
        bad = 1;
    int e = errno;
    if (!bad && o->anon) {
        /* link the finished anonymous file under a temporary name, then rename it into place */
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fileno(f));
        for (unsigned i = 0; i < 100; i++) {
            snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.%u.%u", o->target, (unsigned)getpid(), i);
            if (linkat(AT_FDCWD, proc, AT_FDCWD, o->tmp, AT_SYMLINK_FOLLOW) == 0)
                break;
            if (errno != EEXIST) {
                bad = 1;
                e = errno;
                o->tmp[0] = 0;
                break;
            }
        }
    }
    if (fclose(f) && !bad) {
        bad = 1;
        e = errno;
    }
    o->f = NULL;
    if (!bad && rename(o->tmp, o->target)) {
        bad = 1;
        e = errno;
    }
    if (bad && o->tmp[0])
        unlink(o->tmp);
    if (!o->anon)
        named_drop(o->tmp);
    if (bad) {
        fprintf(stderr, "agilesim: %s %s: write failed: %s\n", o->opt, o->path, strerror(e ? e : EIO));
        return -1;
    }
    return 0;
}

/* The resolved path of an output, for comparisons ("" for standard output). */
const char *ags_out_target(const ags_outfile_t *o) { return o->kind == AGS_OUT_STDOUT ? "-" : o->target; }
