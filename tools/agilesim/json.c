/* agilesim command line — a small JSON reader (json.h). Model notes: none. Errors are reported
 * with their byte offset and unwound with longjmp; nothing here exits except when out of memory. */
#include "json.h"
#include "cli.h"
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s, *path;
    size_t i, len;
    int depth;
    jmp_buf fail;
    char *err;
    size_t errlen;
    char *pending;      /* the string being read: freed when a failure unwinds past it */
} jp_t;

static __attribute__((noreturn)) void jfail(jp_t *p, const char *what)
{
    snprintf(p->err, p->errlen, "%s: byte %zu: not an agilesim JSON report: %s", p->path, p->i, what);
    longjmp(p->fail, 1);
}

static __attribute__((noinline)) void *xrealloc(void *q, size_t n)
{
    void *m = realloc(q, n);
    if (!m)
        ags_cli_die(1, "out of memory");
    return m;
}

static void ws(jp_t *p)
{
    while (p->i < p->len && strchr(" \t\r\n", p->s[p->i]) && p->s[p->i])
        p->i++;
}

static int hex4(jp_t *p)
{
    int x = 0;
    if (p->i + 4 > p->len)
        jfail(p, "bad \\u escape");
    for (int k = 0; k < 4; k++) {
        char c = p->s[p->i++];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            jfail(p, "bad \\u escape");
        x = x * 16 + d;
    }
    return x;
}

static char *jstring(jp_t *p)
{
    size_t cap = 32, n = 0;
    char *out = p->pending = xrealloc(NULL, cap);
    p->i++; /* the opening quote */
    for (;;) {
        if (p->i >= p->len)
            jfail(p, "unterminated string");
        if (n + 4 > cap)
            out = p->pending = xrealloc(out, cap *= 2);
        char c = p->s[p->i++];
        if (c == '"')
            break;
        if (c != '\\') {
            out[n++] = c;
            continue;
        }
        if (p->i >= p->len)
            jfail(p, "unterminated string");
        c = p->s[p->i++];
        if (c == 'u') { /* a code point of the BMP as UTF-8; a surrogate becomes U+FFFD */
            int u = hex4(p);
            if (u >= 0xd800 && u <= 0xdfff)
                u = 0xfffd;
            if (u < 0x80) {
                out[n++] = (char)u;
            } else if (u < 0x800) {
                out[n++] = (char)(0xc0 | (u >> 6));
                out[n++] = (char)(0x80 | (u & 63));
            } else {
                out[n++] = (char)(0xe0 | (u >> 12));
                out[n++] = (char)(0x80 | ((u >> 6) & 63));
                out[n++] = (char)(0x80 | (u & 63));
            }
            continue;
        }
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        const char *k = c ? strchr(from, c) : NULL;
        if (!k)
            jfail(p, "bad escape");
        out[n++] = to[k - from];
    }
    out[n] = 0;
    p->pending = NULL;
    return out;
}

static void jvalue(jp_t *p, ags_jval_t *v);

static void jpush(jp_t *p, ags_jval_t *v, char *key)
{
    if ((v->n & (v->n - 1)) == 0) { /* grow at powers of two */
        size_t cap = v->n ? v->n * 2 : 4;
        v->kids = xrealloc(v->kids, cap * sizeof(*v->kids));
        if (v->t == J_OBJ)
            v->keys = xrealloc(v->keys, cap * sizeof(*v->keys));
    }
    if (v->t == J_OBJ)
        v->keys[v->n] = key;
    memset(&v->kids[v->n], 0, sizeof(v->kids[0]));
    v->n++; /* counted before parsing, so that a failure below frees it */
    jvalue(p, &v->kids[v->n - 1]);
}

static void jvalue(jp_t *p, ags_jval_t *v)
{
    ws(p);
    if (p->i >= p->len)
        jfail(p, "unexpected end");
    if (++p->depth > 64)
        jfail(p, "nested too deeply");
    v->beg = p->i;
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
                    if (p->i >= p->len || p->s[p->i] != ':') {
                        free(key);
                        jfail(p, "expected ':'");
                    }
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
        if (!(c == '-' || (c >= '0' && c <= '9')))
            jfail(p, "expected a value");
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
    v->end = p->i;
    p->depth--;
}

static void jfree(ags_jval_t *v)
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

void ags_json_free(ags_jdoc_t *d)
{
    if (!d)
        return;
    jfree(&d->root);
    free(d->text);
    free(d);
}

ags_jdoc_t *ags_json_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0, k;
    char *s = xrealloc(NULL, cap + 1);
    while ((k = fread(s + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap)
            s = xrealloc(s, (cap *= 2) + 1);
    }
    int rerr = ferror(f);
    fclose(f);
    if (rerr) {
        free(s);
        snprintf(err, errlen, "%s: read error", path);
        return NULL;
    }
    s[n] = 0; /* the strncmp and strtod above stop at the end */
    ags_jdoc_t *d = xrealloc(NULL, sizeof(*d));
    memset(d, 0, sizeof(*d));
    d->text = s;
    d->len = n;
    /* the parser's state lives on the heap: it is changed between setjmp and longjmp */
    jp_t *p = xrealloc(NULL, sizeof(*p));
    memset(p, 0, sizeof(*p));
    p->s = s, p->path = path, p->len = n, p->err = err, p->errlen = errlen;
    if (setjmp(p->fail)) {
        free(p->pending);
        free(p);
        ags_json_free(d);
        return NULL;
    }
    jvalue(p, &d->root);
    ws(p);
    if (p->i != n)
        jfail(p, "text after the report");
    free(p);
    return d;
}

const ags_jval_t *ags_json_get(const ags_jval_t *o, const char *key)
{
    for (size_t i = 0; o && o->t == J_OBJ && i < o->n; i++)
        if (!strcmp(o->keys[i], key))
            return &o->kids[i];
    return NULL;
}

double ags_json_num(const ags_jval_t *o, const char *key)
{
    const ags_jval_t *v = ags_json_get(o, key);
    return v && (v->t == J_NUM || v->t == J_BOOL) ? v->num : NAN;
}

const char *ags_json_strval(const ags_jval_t *o, const char *key)
{
    const ags_jval_t *v = ags_json_get(o, key);
    return v && v->t == J_STR ? v->str : NULL;
}

void ags_json_text(const ags_jval_t *v, char *buf, size_t len)
{
    if (!v)
        snprintf(buf, len, "(none)");
    else if (v->t == J_STR || v->t == J_NUM)
        snprintf(buf, len, "%s", v->str);
    else if (v->t == J_BOOL)
        snprintf(buf, len, "%s", v->num ? "true" : "false");
    else if (v->t == J_NULL)
        snprintf(buf, len, "null");
    else if (v->t == J_OBJ && ags_json_get(v, "entries") && ags_json_get(v, "ways"))
        snprintf(buf, len, "%g:%g", ags_json_num(v, "entries"), ags_json_num(v, "ways"));
    else
        snprintf(buf, len, "(%s)", v->t == J_OBJ ? "object" : "array");
}

void ags_json_write_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}
