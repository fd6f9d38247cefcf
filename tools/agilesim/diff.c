/* agilesim command line — diff: two JSON reports side by side (like cg_diff or perf diff).
 * Model notes: none. Runs are matched by (workload, mode); the configuration keys that differ and
 * the runs found in one report only are listed. A small JSON reader for agilesim's own reports
 * (objects, arrays, strings, numbers, true/false/null), with the byte offset of any error. */
#include "cli.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype_t;
typedef struct jval {
    jtype_t t;
    double num;
    char *str;          /* J_STR: the string; J_NUM: its text */
    struct jval *kids;  /* J_ARR, J_OBJ */
    char **keys;        /* J_OBJ */
    size_t n;
} jval_t;

typedef struct {
    const char *s, *path;
    size_t i, len;
    int depth;
} jp_t;

static void jfail(const jp_t *p, const char *what)
{
    ags_cli_die(EXIT_USAGE, "%s: byte %zu: not an agilesim JSON report: %s", p->path, p->i, what);
}

static void ws(jp_t *p)
{
    while (p->i < p->len && strchr(" \t\r\n", p->s[p->i]))
        p->i++;
}

static char *jstring(jp_t *p)
{
    size_t cap = 32, n = 0;
    char *out = malloc(cap);
    if (!out)
        ags_cli_die(1, "out of memory");
    p->i++; /* the opening quote */
    for (;;) {
        if (p->i >= p->len)
            jfail(p, "unterminated string");
        char c = p->s[p->i++];
        if (c == '"')
            break;
        if (c == '\\') {
            if (p->i >= p->len)
                jfail(p, "unterminated string");
            c = p->s[p->i++];
            if (c == 'u') { /* agilesim writes \u00XX for control bytes and U+FFFD: keep a '?' */
                if (p->i + 4 > p->len)
                    jfail(p, "bad \\u escape");
                p->i += 4;
                c = '?';
            } else {
                const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
                const char *k = strchr(from, c);
                if (!k || !c)
                    jfail(p, "bad escape");
                c = to[k - from];
            }
        }
        if (n + 2 > cap) {
            char *m = realloc(out, cap *= 2);
            if (!m)
                ags_cli_die(1, "out of memory");
            out = m;
        }
        out[n++] = c;
    }
    out[n] = 0;
    return out;
}

static void jvalue(jp_t *p, jval_t *v);

static void jpush(jp_t *p, jval_t *v, char *key)
{
    if ((v->n & (v->n - 1)) == 0) { /* grow at powers of two */
        size_t cap = v->n ? v->n * 2 : 4;
        jval_t *k = realloc(v->kids, cap * sizeof(*k));
        char **ks = v->t == J_OBJ ? realloc(v->keys, cap * sizeof(*ks)) : NULL;
        if (!k || (v->t == J_OBJ && !ks))
            ags_cli_die(1, "out of memory");
        v->kids = k;
        if (ks)
            v->keys = ks;
    }
    if (v->t == J_OBJ)
        v->keys[v->n] = key;
    jvalue(p, &v->kids[v->n++]);
}

static void jvalue(jp_t *p, jval_t *v)
{
    memset(v, 0, sizeof(*v));
    ws(p);
    if (p->i >= p->len)
        jfail(p, "unexpected end");
    if (++p->depth > 64)
        jfail(p, "nested too deeply");
    char c = p->s[p->i];
    if (c == '{' || c == '[') {
        v->t = c == '{' ? J_OBJ : J_ARR;
        p->i++;
        ws(p);
        if (p->i < p->len && p->s[p->i] == (c == '{' ? '}' : ']')) {
            p->i++;
        } else {
            for (;;) {
                char *key = NULL;
                if (v->t == J_OBJ) {
                    ws(p);
                    if (p->i >= p->len || p->s[p->i] != '"')
                        jfail(p, "expected a key");
                    key = jstring(p);
                    ws(p);
                    if (p->i >= p->len || p->s[p->i] != ':')
                        jfail(p, "expected ':'");
                    p->i++;
                }
                jpush(p, v, key);
                ws(p);
                if (p->i < p->len && p->s[p->i] == ',') {
                    p->i++;
                    continue;
                }
                if (p->i < p->len && p->s[p->i] == (v->t == J_OBJ ? '}' : ']')) {
                    p->i++;
                    break;
                }
                jfail(p, "expected ',' or a closing bracket");
            }
        }
    } else if (c == '"') {
        v->t = J_STR;
        v->str = jstring(p);
    } else if (!strncmp(p->s + p->i, "true", 4) || !strncmp(p->s + p->i, "false", 5)) {
        v->t = J_BOOL;
        v->num = c == 't';
        p->i += c == 't' ? 4 : 5;
    } else if (!strncmp(p->s + p->i, "null", 4)) {
        v->t = J_NULL;
        v->num = NAN;
        p->i += 4;
    } else {
        char *end;
        errno = 0;
        v->num = strtod(p->s + p->i, &end);
        if (end == p->s + p->i)
            jfail(p, "expected a value");
        v->t = J_NUM;
        size_t n = (size_t)(end - (p->s + p->i));
        v->str = strndup(p->s + p->i, n);
        if (!v->str)
            ags_cli_die(1, "out of memory");
        p->i += n;
    }
    p->depth--;
}

static void jfree(jval_t *v)
{
    for (size_t i = 0; i < v->n; i++) {
        jfree(&v->kids[i]);
        if (v->t == J_OBJ)
            free(v->keys[i]);
    }
    free(v->kids);
    free(v->keys);
    free(v->str);
}

static const jval_t *jget(const jval_t *o, const char *key)
{
    for (size_t i = 0; o && o->t == J_OBJ && i < o->n; i++)
        if (!strcmp(o->keys[i], key))
            return &o->kids[i];
    return NULL;
}

static double jnum(const jval_t *o, const char *key)
{
    const jval_t *v = jget(o, key);
    return v && (v->t == J_NUM || v->t == J_BOOL) ? v->num : NAN;
}

static double jnum2(const jval_t *o, const char *key, const char *sub) { return jnum(jget(o, key), sub); }

static void jtext(const jval_t *v, char *buf, size_t len)
{
    if (!v)
        snprintf(buf, len, "(none)");
    else if (v->t == J_STR || v->t == J_NUM)
        snprintf(buf, len, "%s", v->str);
    else if (v->t == J_BOOL)
        snprintf(buf, len, "%s", v->num ? "true" : "false");
    else if (v->t == J_NULL)
        snprintf(buf, len, "null");
    else if (v->t == J_OBJ && jget(v, "entries") && jget(v, "ways"))
        snprintf(buf, len, "%g:%g", jnum(v, "entries"), jnum(v, "ways"));
    else
        snprintf(buf, len, "(%s)", v->t == J_OBJ ? "object" : "array");
}

static jval_t *load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        ags_cli_die(EXIT_USAGE, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0, k;
    char *s = malloc(cap);
    while (s && (k = fread(s + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *m = realloc(s, cap *= 2);
            if (!m)
                free(s);
            s = m;
        }
    }
    if (!s)
        ags_cli_die(1, "out of memory");
    int err = ferror(f);
    fclose(f);
    if (err)
        ags_cli_die(EXIT_USAGE, "%s: read error", path);
    jp_t p = { s, path, 0, n, 0 };
    jval_t *v = malloc(sizeof(*v));
    if (!v)
        ags_cli_die(1, "out of memory");
    jvalue(&p, v);
    ws(&p);
    if (p.i != n)
        jfail(&p, "text after the report");
    if (v->t != J_OBJ || !jget(v, "runs") || jget(v, "runs")->t != J_ARR || !jget(v, "config"))
        ags_cli_die(EXIT_USAGE, "%s: not an agilesim JSON report (no runs or config)", path);
    free(s);
    return v;
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
    jval_t *a = load(argv[0]), *b = load(argv[1]);
    const jval_t *ca = jget(a, "config"), *cb = jget(b, "config");
    printf("# A: %s (%s)\n# B: %s (%s)\n", argv[0], jget(a, "command") ? jget(a, "command")->str : "?", argv[1],
           jget(b, "command") ? jget(b, "command")->str : "?");
    int ndiff = 0;
    for (size_t i = 0; ca && ca->t == J_OBJ && i < ca->n; i++) {
        char x[64], y[64];
        jtext(&ca->kids[i], x, sizeof(x));
        jtext(jget(cb, ca->keys[i]), y, sizeof(y));
        if (strcmp(x, y))
            printf("%s config %s: %s -> %s\n", ndiff++ ? "#" : "# configuration that differs:\n#", ca->keys[i], x, y);
    }
    for (size_t i = 0; cb && cb->t == J_OBJ && i < cb->n; i++)
        if (!jget(ca, cb->keys[i])) {
            char y[64];
            jtext(&cb->kids[i], y, sizeof(y));
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
    jfree(a);
    jfree(b);
    free(a);
    free(b);
    if (fflush(stdout) || ferror(stdout))
        ags_cli_die(1, "standard output: write failed: %s", strerror(errno ? errno : EIO));
    return 0;
}
