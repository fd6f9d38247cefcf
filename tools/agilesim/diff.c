/* agilesim command line — diff: two JSON reports side by side (like cg_diff or perf diff).
 * Model notes: none. Runs are matched by (workload, mode); the configuration keys that differ and
 * the runs found in one report only are listed. */
#include "cli.h"
#include "json.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef ags_jval_t jval_t;
#define jget ags_json_get
#define jnum ags_json_num

static double jnum2(const jval_t *o, const char *key, const char *sub) { return jnum(jget(o, key), sub); }

static ags_jdoc_t *load(const char *path)
{
    char err[600];
    ags_jdoc_t *d = ags_json_load(path, err, sizeof(err));
    if (!d)
        ags_cli_die(EXIT_USAGE, "%s", err);
    const jval_t *v = &d->root;
    if (v->t != J_OBJ || !jget(v, "runs") || jget(v, "runs")->t != J_ARR || !jget(v, "config"))
        ags_cli_die(EXIT_USAGE, "%s: not an agilesim JSON report (no runs or config)", path);
    return d;
}

static const jval_t *find(const jval_t *runs, const char *wl, const char *mode)
{
    for (size_t i = 0; i < runs->n; i++) {
        const jval_t *w = jget(&runs->kids[i], "workload"), *m = jget(&runs->kids[i], "mode");
        if (w && m && w->t == J_STR && m->t == J_STR && !strcmp(w->str, wl) && !strcmp(m->str, mode))
            return &runs->kids[i];
    }
    return NULL;
}

/* "12.3", or "-" for a missing value; small values keep two significant digits */
static void num(char *b, size_t len, double v, int dec)
{
    if (isnan(v))
        snprintf(b, len, "-");
    else if (v != 0 && fabs(v) < pow(10, -dec))
        snprintf(b, len, "%.2g", v);
    else
        snprintf(b, len, "%.*f", dec, v);
}

static void change(char *b, size_t len, double a, double c)
{
    if (isnan(a) || isnan(c))
        snprintf(b, len, "-");
    else if (a == c)
        snprintf(b, len, "=");
    else if (a == 0)
        snprintf(b, len, "new");
    else
        snprintf(b, len, "%+.1f%%", 100.0 * (c / a - 1.0));
}

int ags_cli_diff(int argc, char **argv)
{
    if (argc != 2)
        ags_cli_die(EXIT_USAGE, "diff: usage: agilesim diff A.json B.json");
    ags_jdoc_t *da = load(argv[0]), *db = load(argv[1]);
    const jval_t *a = &da->root, *b = &db->root;
    const jval_t *ca = jget(a, "config"), *cb = jget(b, "config");
    printf("# A: %s (%s)\n# B: %s (%s)\n", argv[0], jget(a, "command") ? jget(a, "command")->str : "?", argv[1],
           jget(b, "command") ? jget(b, "command")->str : "?");
    int ndiff = 0;
    for (size_t i = 0; ca && ca->t == J_OBJ && i < ca->n; i++) {
        char x[64], y[64];
        ags_json_text(&ca->kids[i], x, sizeof(x));
        ags_json_text(jget(cb, ca->keys[i]), y, sizeof(y));
        if (strcmp(x, y))
            printf("%s config %s: %s -> %s\n", ndiff++ ? "#" : "# configuration that differs:\n#", ca->keys[i], x, y);
    }
    for (size_t i = 0; cb && cb->t == J_OBJ && i < cb->n; i++)
        if (!jget(ca, cb->keys[i])) {
            char y[64];
            ags_json_text(&cb->kids[i], y, sizeof(y));
            printf("# config %s: (none) -> %s\n", cb->keys[i], y);
            ndiff++;
        }
    if (!ndiff)
        printf("# the same configuration\n");
    const jval_t *ra = jget(a, "runs"), *rb = jget(b, "runs");
    int nw = 8;
    for (size_t i = 0; i < ra->n; i++) {
        const jval_t *w = jget(&ra->kids[i], "workload");
        if (w && w->t == J_STR)
            nw = (int)fmax(nw, fmin(strlen(w->str), 60));
    }
    printf("%-*s %-7s %10s %10s %8s %9s %9s %9s %9s %9s %9s %10s %10s\n", nw, "workload", "mode", "Mcycles A",
           "Mcycles B", "change", "ovh A", "ovh B", "MPKI A", "MPKI B", "refs/w A", "refs/w B", "exits/KI A",
           "exits/KI B");
    for (size_t i = 0; i < ra->n; i++) {
        const jval_t *x = &ra->kids[i], *w = jget(x, "workload"), *m = jget(x, "mode");
        if (!w || !m || w->t != J_STR || m->t != J_STR)
            continue;
        const jval_t *y = find(rb, w->str, m->str);
        if (!y)
            continue;
        double ka = jnum(x, "instructions") / 1000.0, kb = jnum(y, "instructions") / 1000.0;
        double cya = jnum2(x, "cycles", "total") / 1e6, cyb = jnum2(y, "cycles", "total") / 1e6;
        char s[10][32];
        num(s[0], 32, cya, 1), num(s[1], 32, cyb, 1), change(s[2], 32, cya, cyb);
        num(s[3], 32, 100 * jnum(x, "overhead_vs_native"), 1), num(s[4], 32, 100 * jnum(y, "overhead_vs_native"), 1);
        num(s[5], 32, jnum(x, "tlb_misses") / ka, 2), num(s[6], 32, jnum(y, "tlb_misses") / kb, 2);
        double wa = jnum(x, "walks"), wb = jnum(y, "walks");
        num(s[7], 32, wa ? jnum(x, "walk_refs") / wa : 0, 2), num(s[8], 32, wb ? jnum(y, "walk_refs") / wb : 0, 2);
        char e[2][32];
        num(e[0], 32, jnum2(x, "vm_exits", "total") / ka, 3), num(e[1], 32, jnum2(y, "vm_exits", "total") / kb, 3);
        char oa[40], ob[40];
        snprintf(oa, sizeof(oa), "%s%s", s[3], strcmp(s[3], "-") ? "%" : "");
        snprintf(ob, sizeof(ob), "%s%s", s[4], strcmp(s[4], "-") ? "%" : "");
        printf("%-*s %-7s %10s %10s %8s %9s %9s %9s %9s %9s %9s %10s %10s\n", nw, w->str, m->str, s[0], s[1], s[2],
               oa, ob, s[5], s[6], s[7], s[8], e[0], e[1]);
    }
    for (size_t i = 0; i < ra->n; i++) {
        const jval_t *w = jget(&ra->kids[i], "workload"), *m = jget(&ra->kids[i], "mode");
        if (w && m && w->t == J_STR && m->t == J_STR && !find(rb, w->str, m->str))
            printf("%-*s %-7s only in A\n", nw, w->str, m->str);
    }
    for (size_t i = 0; i < rb->n; i++) {
        const jval_t *w = jget(&rb->kids[i], "workload"), *m = jget(&rb->kids[i], "mode");
        if (w && m && w->t == J_STR && m->t == J_STR && !find(ra, w->str, m->str))
            printf("%-*s %-7s only in B\n", nw, w->str, m->str);
    }
    ags_json_free(da);
    ags_json_free(db);
    if (fflush(stdout) || ferror(stdout))
        ags_cli_die(1, "standard output: write failed: %s", strerror(errno ? errno : EIO));
    return 0;
}
