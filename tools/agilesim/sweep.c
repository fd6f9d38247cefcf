/* agilesim command line — sweep and merge. Model notes: none.
 *
 * sweep: a grid of parameter values x inputs. Each point is one `agilesim compare` process for one
 * input, with the point's values as options and as --label KEY=VALUE. The points' commands are
 * written first (DIR/jobs.txt, one shell command per line, and DIR/sweep.tsv, the manifest), so a
 * cluster runs exactly the commands a local sweep runs (--emit-jobs, --emit-slurm). Locally, -j
 * points run at a time. A point's JSON is linked into place only when complete (outfile.c), so a
 * sweep started again skips every point whose JSON is there, echoes the point's command and has no
 * interrupted run; everything else is redone.
 *
 * merge: the points' JSON into DIR/sweep.json (each run with its point and parameters),
 * DIR/sweep.csv (the parameters as leading columns) and one SVG line chart per parameter; the
 * points that are missing are listed, with why. */
#define _GNU_SOURCE
#include "cli.h"
#include "json.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARAMS 16
#define MAX_POINTS 100000
#define CMDLINE_MAX 8191 /* compare echoes at most this much of its command line (main.c) */

typedef struct {
    char *name;     /* the option without "--" */
    char **vals;
    size_t nvals;
} param_t;

typedef struct {
    size_t input;           /* index into the inputs */
    size_t vi[MAX_PARAMS];  /* value index per parameter */
    char *cmdline;          /* as the point's compare echoes it (NULL: not known, merge of files) */
    char *json;             /* its JSON file */
    /* running */
    pid_t pid;
    double t0;
    int done;               /* 1 complete (before or now), 2 failed */
} point_t;

typedef struct {
    char dir[PATH_MAX];
    param_t params[MAX_PARAMS];
    size_t nparams;
    char **inputs;          /* names as the table shows them */
    size_t ninputs;
    point_t *pts;
    size_t npts;
} grid_t;

static void *xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p)
        ags_cli_die(1, "out of memory");
    return p;
}

static void *xgrow(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        ags_cli_die(1, "out of memory");
    return q;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        ags_cli_die(1, "out of memory");
    return d;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ------------------------------------------------------------------ text helpers */

/* A word for sh: as it is when it has only safe characters, else in single quotes */
static void sh_word(FILE *f, const char *s)
{
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+-%@") == strlen(s)) {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc((unsigned char)*s < 0x20 ? '?' : *s, f);
        }
    }
}

/* "a=1, b=10M": a point's values */
static void point_params(const grid_t *g, const point_t *p, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = 0;
    for (size_t k = 0; k < g->nparams && n < len; k++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", n ? ", " : "", g->params[k].name, g->params[k].vals[p->vi[k]]);
}

/* The point's JSON file and its log */
static void point_path(const grid_t *g, size_t i, const char *ext, char *buf, size_t len)
{
    snprintf(buf, len, "%s/points/%04zu.%s", g->dir, i, ext);
}

/* ------------------------------------------------------------------ the point's command */

typedef struct {
    char **v;
    size_t n, cap;
} argv_t;

static void push(argv_t *a, const char *s)
{
    if (a->n + 2 > a->cap)
        a->v = xgrow(a->v, (a->cap = a->cap ? a->cap * 2 : 32) * sizeof(char *));
    a->v[a->n++] = s ? xstrdup(s) : NULL;
    a->v[a->n] = NULL;
}

static char *join(char **v)
{
    size_t len = 0;
    for (size_t i = 0; v[i]; i++)
        len += strlen(v[i]) + 1;
    char *s = xmalloc(len + 1);
    size_t pos = 0;
    for (size_t i = 0; v[i]; i++)
        pos += (size_t)sprintf(s + pos, "%s%s", i ? " " : "", v[i]);
    if (pos > CMDLINE_MAX)
        s[CMDLINE_MAX] = 0;
    return s;
}

/* ------------------------------------------------------------------ the manifest */

/* DIR/sweep.tsv: "param NAME V...", "input NAME", "point I INPUT VI... CMDLINE", tab-separated */
static void write_manifest(FILE *f, const grid_t *g)
{
    fputs("# agilesim sweep manifest: the grid and each point's command (agilesim merge DIR reads it)\n", f);
    for (size_t k = 0; k < g->nparams; k++) {
        fprintf(f, "param\t%s", g->params[k].name);
        for (size_t j = 0; j < g->params[k].nvals; j++)
            fprintf(f, "\t%s", g->params[k].vals[j]);
        fputc('\n', f);
    }
    for (size_t i = 0; i < g->ninputs; i++)
        fprintf(f, "input\t%s\n", g->inputs[i]);
    for (size_t i = 0; i < g->npts; i++) {
        fprintf(f, "point\t%zu\t%zu", i, g->pts[i].input);
        for (size_t k = 0; k < g->nparams; k++)
            fprintf(f, "\t%zu", g->pts[i].vi[k]);
        fprintf(f, "\t%s\n", g->pts[i].cmdline);
    }
}

static char *next_field(char **s)
{
    char *f = *s, *t = f ? strchr(f, '\t') : NULL;
    if (t)
        *t = 0;
    *s = t ? t + 1 : NULL;
    return f;
}

static void read_manifest(grid_t *g, const char *dir)
{
    char path[PATH_MAX + 32];
    if (!realpath(dir, g->dir))
        ags_cli_die(EXIT_USAGE, "merge: %s: %s", dir, strerror(errno));
    snprintf(path, sizeof(path), "%s/sweep.tsv", g->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        ags_cli_die(EXIT_USAGE, "merge: %s: cannot open: %s (is %s a sweep's directory?)", path, strerror(errno), dir);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[n - 1] == '\n')
            line[--n] = 0;
        if (line[0] == '#' || !line[0])
            continue;
        char *s = line, *kind = next_field(&s);
        if (!strcmp(kind, "param") && s && g->nparams < MAX_PARAMS) {
            param_t *p = &g->params[g->nparams++];
            p->name = xstrdup(next_field(&s));
            while (s) {
                p->vals = xgrow(p->vals, (p->nvals + 1) * sizeof(char *));
                p->vals[p->nvals++] = xstrdup(next_field(&s));
            }
            if (p->nvals)
                continue;
        } else if (!strcmp(kind, "input") && s) {
            g->inputs = xgrow(g->inputs, (g->ninputs + 1) * sizeof(char *));
            g->inputs[g->ninputs++] = xstrdup(s);
            continue;
        } else if (!strcmp(kind, "point") && s && g->npts < MAX_POINTS) {
            g->pts = xgrow(g->pts, (g->npts + 1) * sizeof(point_t));
            point_t *p = &g->pts[g->npts];
            memset(p, 0, sizeof(*p));
            char *end;
            int ok = strtoul(next_field(&s), &end, 10) == g->npts && !*end && s;
            p->input = ok ? strtoul(next_field(&s), &end, 10) : 0;
            ok = ok && !*end && p->input < g->ninputs && s;
            for (size_t k = 0; ok && k < g->nparams; k++) {
                p->vi[k] = strtoul(next_field(&s), &end, 10);
                ok = !*end && p->vi[k] < g->params[k].nvals && s;
            }
            if (ok) {
                p->cmdline = xstrdup(s);
                char jp[PATH_MAX + 32];
                point_path(g, g->npts, "json", jp, sizeof(jp));
                p->json = xstrdup(jp);
                g->npts++;
                continue;
            }
        }
        ags_cli_die(EXIT_USAGE, "merge: %s: line %lu: not a sweep manifest line", path, lineno);
    }
    free(line);
    fclose(f);
    if (!g->npts)
        ags_cli_die(EXIT_USAGE, "merge: %s: no points", path);
}

/* ------------------------------------------------------------------ results */

typedef struct {
    ags_jdoc_t *doc;        /* NULL: missing */
    char why[640];          /* why it is missing */
} result_t;

/* The last line of a point's log: why it failed */
static void last_line(const char *path, char *buf, size_t len)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof(line), f))
        if (line[0] && line[0] != '\n')
            snprintf(buf, len, "%s", line);
    fclose(f);
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[n - 1] = 0;
}

/* Load point i's JSON; it counts when it is complete: every run there and not interrupted, and
 * (when the command is known) made by the point's command. */
static void load_result(const point_t *p, result_t *r)
{
    char err[600];
    memset(r, 0, sizeof(*r));
    struct stat st;
    if (stat(p->json, &st) && errno == ENOENT) { /* the point's log says why, if it ran */
        char log[PATH_MAX + 32], last[512] = "";
        size_t n = strlen(p->json);
        if (n > 5 && !strcmp(p->json + n - 5, ".json")) {
            snprintf(log, sizeof(log), "%.*s.log", (int)(n - 5), p->json);
            last_line(log, last, sizeof(last));
        }
        snprintf(r->why, sizeof(r->why), "no result%s%s", last[0] ? ": " : "", last);
        return;
    }
    ags_jdoc_t *d = ags_json_load(p->json, err, sizeof(err));
    if (!d) {
        snprintf(r->why, sizeof(r->why), "%s", err);
        return;
    }
    const ags_jval_t *runs = ags_json_get(&d->root, "runs");
    const char *cmd = ags_json_strval(&d->root, "command");
    if (!runs || runs->t != J_ARR || !runs->n || !ags_json_get(&d->root, "config"))
        snprintf(r->why, sizeof(r->why), "%s: not an agilesim JSON report (no runs or config)", p->json);
    else if (p->cmdline && (!cmd || strcmp(cmd, p->cmdline)))
        snprintf(r->why, sizeof(r->why), "%s: made by another command (an earlier sweep?)", p->json);
    for (size_t i = 0; !r->why[0] && runs && i < runs->n; i++)
        if (ags_json_num(&runs->kids[i], "interrupted") != 0)
            snprintf(r->why, sizeof(r->why), "interrupted");
    if (r->why[0])
        ags_json_free(d);
    else
        r->doc = d;
}

static double run_overhead(const ags_jval_t *run) { return ags_json_num(run, "overhead_vs_native"); }

/* The value of CSV column `col` in a JSON run: the key itself, or object.key split at a '_'
 * (cycles_guest_kernel: cycles.guest_kernel); refs_per_walk is computed as the CSV does. */
static void csv_value(FILE *f, const ags_jval_t *run, const char *col)
{
    if (!strcmp(col, "kind")) {
        fputs("run", f);
        return;
    }
    if (!strcmp(col, "refs_per_walk")) {
        double w = ags_json_num(run, "walks"), r = ags_json_num(run, "walk_refs");
        fprintf(f, "%.4f", w > 0 ? r / w : 0.0);
        return;
    }
    const ags_jval_t *v = ags_json_get(run, col);
    for (const char *u = strchr(col, '_'); !v && u; u = strchr(u + 1, '_')) {
        char key[64];
        snprintf(key, sizeof(key), "%.*s", (int)(u - col), col);
        const ags_jval_t *o = ags_json_get(run, key);
        if (o && o->t == J_OBJ)
            v = ags_json_get(o, u + 1);
    }
    if (!v || v->t == J_NULL || v->t == J_ARR || v->t == J_OBJ)
        return;
    if (v->t == J_BOOL)
        fputc(v->num ? '1' : '0', f);
    else
        ags_report_csv_str(f, v->str);
}

/* The CSV header of a report without labels: the library's, so the columns stay the same */
static char *csv_header(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ags_config_t cfg;
    ags_config_defaults(&cfg);
    ags_report_t rep;
    memset(&rep, 0, sizeof(rep));
    rep.cfg = &cfg;
    rep.command = "";
    if (!m || ags_report_csv(m, &rep) || fclose(m))
        ags_cli_die(1, "out of memory");
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = 0;
    return buf;
}

/* ------------------------------------------------------------------ SVG: overhead against a parameter */

static const char *const mode_names[4] = { "native", "nested", "shadow", "agile" };
static const char *const mode_colors[4] = { "#555555", "#1f77b4", "#d62728", "#2ca02c" };

static int mode_index(const char *m)
{
    for (int i = 0; i < 4; i++)
        if (m && !strcmp(m, mode_names[i]))
            return i;
    return -1;
}

static double nice_step(double range)
{
    double raw = range / 5, mag = pow(10, floor(log10(raw)));
    double r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

/* One chart for parameter k: x = its values in the order given, y = overhead against native (%)
 * per virtualized mode; one line per input (up to 3 inputs), else the mean over the inputs. The
 * other parameters are held at their first value. */
static void chart(FILE *f, const grid_t *g, const result_t *res, size_t k)
{
    const param_t *pk = &g->params[k];
    size_t nx = pk->nvals, nin = g->ninputs, per_input = nin <= 3;
    size_t nser = 3 * (per_input ? nin : 1);
    double *y = xmalloc(nser * nx * sizeof(double)), *cnt = xmalloc(nser * nx * sizeof(double));
    for (size_t i = 0; i < g->npts; i++) {
        const point_t *p = &g->pts[i];
        int other = 0;
        for (size_t q = 0; q < g->nparams; q++)
            other |= q != k && p->vi[q] != 0;
        if (other || !res[i].doc)
            continue;
        const ags_jval_t *runs = ags_json_get(&res[i].doc->root, "runs");
        for (size_t r = 0; r < runs->n; r++) {
            int m = mode_index(ags_json_strval(&runs->kids[r], "mode"));
            double o = run_overhead(&runs->kids[r]);
            if (m < 1 || isnan(o))
                continue;
            size_t s = (size_t)(m - 1) * (per_input ? nin : 1) + (per_input ? p->input : 0);
            y[s * nx + p->vi[k]] += 100 * o;
            cnt[s * nx + p->vi[k]] += 1;
        }
    }
    double lo = 0, hi = 0;
    for (size_t i = 0; i < nser * nx; i++) {
        y[i] = cnt[i] ? y[i] / cnt[i] : NAN;
        if (!isnan(y[i]))
            lo = fmin(lo, y[i]), hi = fmax(hi, y[i]);
    }
    if (hi - lo < 1e-9)
        hi = lo + 1;
    double step = nice_step(hi - lo);
    lo = floor(lo / step) * step, hi = ceil(hi / step) * step;
    const double W = 800, H = 440, L = 70, R = 230, T = 64, B = 70, pw = W - L - R, ph = H - T - B;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            W, H, W, H);
    fputs("<text x=\"20\" y=\"24\" font-size=\"15\" font-weight=\"bold\">Overhead against native vs ", f);
    xml_text(f, pk->name);
    fputs("</text>\n<text x=\"20\" y=\"44\" font-size=\"11\" fill=\"#444\">", f);
    char other[512] = "";
    size_t n = 0;
    for (size_t q = 0; q < g->nparams; q++)
        if (q != k && n < sizeof(other))
            n += (size_t)snprintf(other + n, sizeof(other) - n, "%s%s=%s", n ? ", " : "", g->params[q].name,
                                  g->params[q].vals[0]);
    char sub[700];
    snprintf(sub, sizeof(sub), "%s%s%s", n ? "other parameters at " : "", other,
             per_input ? "" : (n ? "; mean over the inputs" : "mean over the inputs"));
    if (strlen(sub) > 110)
        memcpy(sub + 106, " ...", 5);
    xml_text(f, sub);
    fputs("</text>\n", f);
    for (double v = lo; v <= hi + step / 2; v += step) { /* y grid */
        double yy = T + ph * (1 - (v - lo) / (hi - lo));
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", L, yy, L + pw, yy,
                fabs(v) < step / 2 ? "#888" : "#e5e5e5");
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n", L - 6, yy + 4,
                step < 1 ? (int)ceil(-log10(step)) : 0, v);
    }
    fprintf(f, "<text transform=\"translate(18,%.1f) rotate(-90)\" text-anchor=\"middle\">overhead against native (%%)</text>\n",
            T + ph / 2);
    double dx = pw / (double)nx; /* value j at the middle of its slot */
    for (size_t j = 0; j < nx; j++) {
        double xx = L + dx * ((double)j + 0.5);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>\n", xx, T + ph, xx, T + ph + 5);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", xx, T + ph + 19);
        char v[24];
        snprintf(v, sizeof(v), "%s", pk->vals[j]);
        if (strlen(pk->vals[j]) > 20)
            memcpy(v + 17, "...", 4);
        xml_text(f, v);
        fputs("</text>\n", f);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", L + pw / 2, T + ph + 42);
    xml_text(f, pk->name);
    fputs(" (as given)</text>\n", f);
    static const char *const dash[3] = { "", " stroke-dasharray=\"6 3\"", " stroke-dasharray=\"2 3\"" };
    double ly = T;
    for (size_t s = 0; s < nser; s++) {
        size_t m = 1 + s / (per_input ? nin : 1), in = per_input ? s % nin : 0;
        int any = 0;
        for (size_t j = 0; j < nx; j++)
            any |= !isnan(y[s * nx + j]);
        if (!any)
            continue;
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", mode_colors[m], dash[in % 3]);
        for (size_t j = 0; j < nx; j++) /* a missing value ends nothing: the line joins the points there are */
            if (!isnan(y[s * nx + j]))
                fprintf(f, "%.1f,%.1f ", L + dx * ((double)j + 0.5),
                        T + ph * (1 - (y[s * nx + j] - lo) / (hi - lo)));
        fputs("\"/>\n", f);
        for (size_t j = 0; j < nx; j++)
            if (!isnan(y[s * nx + j]))
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%s %.3g%%</title></circle>\n",
                        L + dx * ((double)j + 0.5), T + ph * (1 - (y[s * nx + j] - lo) / (hi - lo)),
                        mode_colors[m], mode_names[m], y[s * nx + j]);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
                L + pw + 14, ly, L + pw + 40, ly, mode_colors[m], dash[in % 3]);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s", L + pw + 46, ly + 4, mode_names[m]);
        if (per_input) {
            char nm[24];
            snprintf(nm, sizeof(nm), "%s", g->inputs[in]);
            if (strlen(g->inputs[in]) > 20)
                memcpy(nm + 17, "...", 4);
            fputs(" ", f);
            xml_text(f, nm);
        }
        fputs("</text>\n", f);
        ly += 18;
    }
    fputs("</svg>\n", f);
    free(y);
    free(cnt);
}

static void free_argv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static void free_grid(grid_t *g)
{
    for (size_t k = 0; k < g->nparams; k++) {
        for (size_t j = 0; j < g->params[k].nvals; j++)
            free(g->params[k].vals[j]);
        free(g->params[k].vals);
        free(g->params[k].name);
    }
    for (size_t i = 0; i < g->ninputs; i++)
        free(g->inputs[i]);
    free(g->inputs);
    for (size_t i = 0; i < g->npts; i++)
        free(g->pts[i].cmdline), free(g->pts[i].json);
    free(g->pts);
}

/* ------------------------------------------------------------------ merge */

static int write_out(const char *path, const char *opt, void (*fn)(FILE *, void *), void *arg)
{
    ags_outfile_t of;
    ags_out_open(&of, path, opt);
    FILE *f = ags_out_stream(&of);
    if (f)
        fn(f, arg);
    if (!f || ferror(f) || ags_out_commit(&of)) {
        fprintf(stderr, "agilesim: %s: write failed\n", path);
        ags_out_abort(&of);
        return -1;
    }
    return 0;
}

typedef struct {
    const grid_t *g;
    const result_t *res;
    const char *cmdline;
    size_t param;
} merged_t;

static void write_params(FILE *f, const grid_t *g, const point_t *p)
{
    fputs("{", f);
    for (size_t k = 0; k < g->nparams; k++) {
        fputs(k ? ", " : "", f);
        ags_json_write_str(f, g->params[k].name);
        fputs(": ", f);
        ags_json_write_str(f, g->params[k].vals[p->vi[k]]);
    }
    fputs("}", f);
}

static void merged_json(FILE *f, void *arg)
{
    const merged_t *m = arg;
    const grid_t *g = m->g;
    size_t first = g->npts, complete = 0;
    for (size_t i = 0; i < g->npts; i++)
        if (m->res[i].doc) {
            complete++;
            if (first == g->npts)
                first = i;
        }
    fprintf(f, "{\"schema_version\": 1, \"tool\": \"agilesim\", \"version\": \"%s\", \"command\": ", AGS_VERSION);
    ags_json_write_str(f, m->cmdline);
    fputs(",\n  \"sweep\": {\"params\": [", f);
    for (size_t k = 0; k < g->nparams; k++) {
        fputs(k ? ", " : "", f);
        fputs("{\"name\": ", f);
        ags_json_write_str(f, g->params[k].name);
        fputs(", \"values\": [", f);
        for (size_t j = 0; j < g->params[k].nvals; j++) {
            fputs(j ? ", " : "", f);
            ags_json_write_str(f, g->params[k].vals[j]);
        }
        fputs("]}", f);
    }
    fputs("], \"inputs\": [", f);
    for (size_t i = 0; i < g->ninputs; i++) {
        fputs(i ? ", " : "", f);
        ags_json_write_str(f, g->inputs[i]);
    }
    fprintf(f, "], \"points\": %zu, \"complete\": %zu, \"missing\": [", g->npts, complete);
    for (size_t i = 0, n = 0; i < g->npts; i++) {
        if (m->res[i].doc)
            continue;
        fprintf(f, "%s\n    {\"point\": %zu, \"input\": ", n++ ? "," : "", i);
        ags_json_write_str(f, g->inputs[g->pts[i].input]);
        fputs(", \"params\": ", f);
        write_params(f, g, &g->pts[i]);
        fputs(", \"why\": ", f);
        ags_json_write_str(f, m->res[i].why);
        if (g->pts[i].cmdline) {
            fputs(", \"command\": ", f);
            ags_json_write_str(f, g->pts[i].cmdline);
        }
        fputs("}", f);
    }
    fputs("]},\n", f);
    if (first < g->npts) { /* the first complete point's: the swept keys differ per point (see params) */
        const ags_jdoc_t *d = m->res[first].doc;
        const ags_jval_t *c = ags_json_get(&d->root, "config"), *wp = ags_json_get(&d->root, "workload_params");
        if (wp)
            fprintf(f, "  \"workload_params\": %.*s,\n", (int)(wp->end - wp->beg), d->text + wp->beg);
        fprintf(f, "  \"config\": %.*s,\n", (int)(c->end - c->beg), d->text + c->beg);
    }
    fputs("  \"runs\": [", f);
    size_t nr = 0;
    for (size_t i = 0; i < g->npts; i++) {
        if (!m->res[i].doc)
            continue;
        const ags_jdoc_t *d = m->res[i].doc;
        const ags_jval_t *runs = ags_json_get(&d->root, "runs");
        for (size_t r = 0; r < runs->n; r++) {
            const ags_jval_t *run = &runs->kids[r];
            fprintf(f, "%s\n    {\"point\": %zu, \"params\": ", nr++ ? "," : "", i);
            write_params(f, g, &g->pts[i]);
            if (run->t == J_OBJ && run->n) /* the run's own keys, as the point wrote them */
                fprintf(f, ", %.*s", (int)(run->end - run->beg - 1), d->text + run->beg + 1);
            else
                fputs("}", f);
        }
    }
    fputs("\n  ]\n}\n", f);
}

static void merged_csv(FILE *f, void *arg)
{
    const merged_t *m = arg;
    const grid_t *g = m->g;
    char *hdr = csv_header();
    for (size_t k = 0; k < g->nparams; k++) {
        ags_report_csv_str(f, g->params[k].name);
        fputc(',', f);
    }
    fprintf(f, "point,%s\n", hdr);
    char *cols[64];
    size_t nc = 0;
    for (char *s = hdr, *c; s && nc < 64; s = c ? c + 1 : NULL) {
        c = strchr(s, ',');
        if (c)
            *c = 0;
        cols[nc++] = s;
    }
    for (size_t i = 0; i < g->npts; i++) {
        if (!m->res[i].doc)
            continue;
        const ags_jval_t *runs = ags_json_get(&m->res[i].doc->root, "runs");
        for (size_t r = 0; r < runs->n; r++) {
            for (size_t k = 0; k < g->nparams; k++) {
                ags_report_csv_str(f, g->params[k].vals[g->pts[i].vi[k]]);
                fputc(',', f);
            }
            fprintf(f, "%zu", i);
            for (size_t c = 0; c < nc; c++) {
                fputc(',', f);
                csv_value(f, &runs->kids[r], cols[c]);
            }
            fputc('\n', f);
        }
    }
    free(hdr);
}

static void merged_svg(FILE *f, void *arg)
{
    const merged_t *m = arg;
    chart(f, m->g, m->res, m->param);
}

/* The table on standard output: one row per point, overhead against native per mode */
static void table(const grid_t *g, const result_t *res)
{
    int wn = 8;
    for (size_t i = 0; i < g->ninputs; i++)
        wn = (int)fmax(wn, fmin(40, (double)strlen(g->inputs[i])));
    int wp[MAX_PARAMS];
    printf("%5s  ", "point");
    for (size_t k = 0; k < g->nparams; k++) {
        wp[k] = (int)strlen(g->params[k].name);
        for (size_t j = 0; j < g->params[k].nvals; j++)
            wp[k] = (int)fmax(wp[k], fmin(24, (double)strlen(g->params[k].vals[j])));
        printf("%-*s  ", wp[k], g->params[k].name);
    }
    printf("%-*s  %9s %9s %9s  (overhead against native)\n", wn, "input", "nested", "shadow", "agile");
    for (size_t i = 0; i < g->npts; i++) {
        const point_t *p = &g->pts[i];
        printf("%5zu  ", i);
        for (size_t k = 0; k < g->nparams; k++)
            printf("%-*.24s  ", wp[k], g->params[k].vals[p->vi[k]]);
        printf("%-*.40s ", wn, g->inputs[p->input]);
        if (!res[i].doc) {
            printf(" missing: %s\n", res[i].why);
            continue;
        }
        double o[4] = { NAN, NAN, NAN, NAN };
        const ags_jval_t *runs = ags_json_get(&res[i].doc->root, "runs");
        for (size_t r = 0; r < runs->n; r++) {
            int mi = mode_index(ags_json_strval(&runs->kids[r], "mode"));
            if (mi >= 0)
                o[mi] = run_overhead(&runs->kids[r]);
        }
        for (int mi = 1; mi < 4; mi++) {
            if (isnan(o[mi]))
                printf(" %9s", "-");
            else
                printf(" %+8.*f%%", fabs(o[mi]) < 0.001 && o[mi] != 0 ? 3 : 1, 100 * o[mi]);
        }
        printf("\n");
    }
}

/* Merge the points' results into g->dir; returns how many are missing (-1: a write failed). */
static long merge_into(const grid_t *g, const char *cmdline, int quiet)
{
    result_t *res = xmalloc(g->npts * sizeof(result_t));
    long missing = 0;
    for (size_t i = 0; i < g->npts; i++) {
        load_result(&g->pts[i], &res[i]);
        missing += !res[i].doc;
    }
    merged_t m = { g, res, cmdline, 0 };
    char path[PATH_MAX + 256];
    int bad = 0;
    snprintf(path, sizeof(path), "%s/sweep.json", g->dir);
    bad |= write_out(path, "merge", merged_json, &m);
    snprintf(path, sizeof(path), "%s/sweep.csv", g->dir);
    bad |= write_out(path, "merge", merged_csv, &m);
    for (size_t k = 0; k < g->nparams; k++) {
        char safe[128];
        snprintf(safe, sizeof(safe), "%s", g->params[k].name);
        for (char *c = safe; *c; c++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.", *c))
                *c = '_';
        snprintf(path, sizeof(path), "%s/sweep-%s.svg", g->dir, safe);
        m.param = k;
        bad |= write_out(path, "merge", merged_svg, &m);
    }
    if (!quiet)
        table(g, res);
    fflush(stdout);
    if (missing) {
        fprintf(stderr, "agilesim: %ld of %zu points missing:", missing, g->npts);
        for (size_t i = 0, n = 0; i < g->npts; i++)
            if (!res[i].doc && n++ < 20)
                fprintf(stderr, " %zu", i);
        fprintf(stderr, "%s (why: %s/sweep.json \"missing\"; their commands: %s/jobs.txt, line = point + 1)\n",
                missing > 20 ? " ..." : "", g->dir, g->dir);
    }
    if (!quiet)
        fprintf(stderr, "agilesim: merged %zu of %zu points into %s/sweep.json, sweep.csv%s\n", g->npts - (size_t)missing,
                g->npts, g->dir, g->nparams ? " and one sweep-PARAM.svg per parameter" : "");
    for (size_t i = 0; i < g->npts; i++)
        ags_json_free(res[i].doc);
    free(res);
    return bad ? -1 : missing;
}

/* agilesim merge DIR: a sweep's directory (its manifest names the points) */
int ags_cli_merge(int argc, char **argv, const char *cmdline)
{
    int quiet = 0;
    const char *dir = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--quiet"))
            quiet = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            ags_cli_die(EXIT_USAGE, "merge: unknown option '%s' (usage: agilesim merge [--quiet] DIR)", argv[i]);
        else if (dir)
            ags_cli_die(EXIT_USAGE, "merge: one sweep directory (usage: agilesim merge [--quiet] DIR)");
        else
            dir = argv[i];
    }
    if (!dir)
        ags_cli_die(EXIT_USAGE, "merge: usage: agilesim merge [--quiet] DIR (a directory sweep wrote)");
    grid_t g;
    memset(&g, 0, sizeof(g));
    read_manifest(&g, dir);
    long missing = merge_into(&g, cmdline, quiet);
    free_grid(&g);
    return missing ? 1 : 0;
}

/* ------------------------------------------------------------------ sweep */

static int is_report_option(const char *canon)
{
    static const char *const no[] = { "--json", "--csv", "--svg", "--interval-svg", "--label", "--workload", "--mode" };
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (!strcmp(canon, no[i]))
            return 1;
    return 0;
}

const char ags_cli_sweep_help[] =
    "usage: agilesim sweep -o DIR --param NAME=V1,V2,... [--param ...] [-j N|all] [--emit-jobs FILE]\n"
    "                      [--emit-slurm FILE.sbatch] [--quiet] [compare's options and inputs]\n"
    "\n"
    "A grid: every combination of the --param values, for each input (as for compare: --workload\n"
    "NAMES or trace files; none: the built-in suite). Each point is one 'agilesim compare' of one\n"
    "input with the point's values as options (and as --label NAME=VALUE); the other options go\n"
    "to every point. NAME is any option of compare that takes a value (agile-threshold,\n"
    "agile-interval, cost-exit, guest-page, l2-tlb, modes, ...); a list value joins with +\n"
    "(modes=native+nested,native+agile).\n"
    "\n"
    "  -o DIR            where everything goes: DIR/jobs.txt (one shell command per point),\n"
    "                    DIR/sweep.tsv (the grid), DIR/points/NNNN.json, .txt (the table) and\n"
    "                    .log (stderr), and the merged\n"
    "                    DIR/sweep.json, DIR/sweep.csv (parameters as leading columns) and one\n"
    "                    DIR/sweep-NAME.svg per parameter (overhead against native per mode)\n"
    "  -j N|all          points at a time (default: all cores); each point runs with --threads 1\n"
    "                    unless --threads is given\n"
    "  --emit-jobs FILE  write the commands (as DIR/jobs.txt) and stop: run them anywhere that\n"
    "                    shares DIR, e.g. parallel --jobs 8 --sshloginfile HOSTS < FILE, then\n"
    "                    agilesim merge DIR\n"
    "  --emit-slurm FILE write a Slurm job-array script over DIR/jobs.txt and stop (sbatch FILE)\n"
    "  --quiet           no progress and no table\n"
    "\n"
    "Started again with the same arguments, a sweep skips every point whose JSON is complete and\n"
    "runs the rest (a point stopped half-way left no JSON). Exit status: 0 all points complete,\n"
    "1 some failed (each named with its command and error), 130 interrupted (the complete points\n"
    "are merged).\n";

const char ags_cli_merge_help[] =
    "usage: agilesim merge [--quiet] DIR\n"
    "\n"
    "Merge the points of a sweep (DIR as given to sweep -o) into DIR/sweep.json, DIR/sweep.csv\n"
    "and DIR/sweep-NAME.svg, and print the table; for sweeps run with --emit-jobs or --emit-slurm.\n"
    "The points whose JSON is missing, interrupted or from another command are listed (JSON\n"
    "\"sweep\": \"missing\") and the exit status is 1.\n";

typedef struct {
    const grid_t *g;
    char ***argvs;
} jobs_t;

static void write_jobs_argv(FILE *f, void *arg)
{
    const jobs_t *j = arg;
    for (size_t i = 0; i < j->g->npts; i++) {
        char log[PATH_MAX + 32], txt[PATH_MAX + 32];
        point_path(j->g, i, "log", log, sizeof(log));
        point_path(j->g, i, "txt", txt, sizeof(txt));
        for (char **a = j->argvs[i]; *a; a++) {
            if (a != j->argvs[i])
                fputc(' ', f);
            sh_word(f, *a);
        }
        fputs(" >", f);
        sh_word(f, txt);
        fputs(" 2>", f);
        sh_word(f, log);
        fputc('\n', f);
    }
}

static void write_manifest_cb(FILE *f, void *arg) { write_manifest(f, arg); }

static void write_slurm(FILE *f, void *arg)
{
    const grid_t *g = arg;
    fprintf(f, "#!/bin/bash\n"
               "# agilesim sweep: %zu points, one Slurm array task each. Submit with: sbatch THIS_FILE\n"
               "# When every task has finished: agilesim merge ",
            g->npts);
    sh_word(f, g->dir);
    fprintf(f, "\n#SBATCH --job-name=agilesim-sweep\n#SBATCH --array=0-%zu\n#SBATCH --cpus-per-task=1\n"
               "#SBATCH --output=%s/points/slurm-%%a.out\n"
               "set -eu\n"
               "jobs=",
            g->npts - 1, g->dir);
    char jobs[PATH_MAX + 32];
    snprintf(jobs, sizeof(jobs), "%s/jobs.txt", g->dir);
    sh_word(f, jobs);
    fputs("\n: \"${SLURM_ARRAY_TASK_ID:?run as a Slurm array task, or set SLURM_ARRAY_TASK_ID to a point}\"\n"
          "line=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" \"$jobs\")\n"
          "[ -n \"$line\" ] || { echo \"agilesim sweep: no point $SLURM_ARRAY_TASK_ID in $jobs\" >&2; exit 2; }\n"
          "eval \"exec $line\"\n",
          f);
}

/* Start point i: stdout to /dev/null, stderr to its log; dies with the sweep (PR_SET_PDEATHSIG). */
static pid_t start_point(const grid_t *g, size_t i, char **argv, const char *self)
{
    sigset_t all, old;
    sigemptyset(&all);
    sigaddset(&all, SIGINT), sigaddset(&all, SIGTERM), sigaddset(&all, SIGHUP);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t parent = getpid();
    fflush(NULL);
    pid_t c = fork();
    if (c == 0) {
        char log[PATH_MAX + 32];
        point_path(g, i, "log", log, sizeof(log));
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(EXIT_SIGNAL);
        signal(SIGINT, SIG_DFL), signal(SIGTERM, SIG_DFL), signal(SIGHUP, SIG_DFL);
        char txt[PATH_MAX + 32];
        point_path(g, i, "txt", txt, sizeof(txt));
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int out = open(txt, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || out < 0 || dup2(fd, 2) < 0 || dup2(out, 1) < 0)
            _exit(126);
        sigprocmask(SIG_SETMASK, &old, NULL);
        execv(self, argv);
        fprintf(stderr, "agilesim: sweep: cannot run %s: %s\n", self, strerror(errno));
        _exit(127);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return c;
}

/* What sweep allocates, freed on every return */
typedef struct {
    grid_t g;
    argv_t base, inputs_args, all;
    char **input_words;     /* [2i] "--workload" or NULL (a trace: [2i + 1] allocated) */
    size_t ninput_words;
    char ***argvs;          /* per point */
} sweep_t;

static int sweep(sweep_t *sw, int argc, char **argv, const char *cmdline);

int ags_cli_sweep(int argc, char **argv, const char *cmdline)
{
    sweep_t sw;
    memset(&sw, 0, sizeof(sw));
    int rc = sweep(&sw, argc, argv, cmdline);
    for (size_t i = 0; sw.argvs && i < sw.g.npts; i++)
        free_argv(sw.argvs[i]);
    free(sw.argvs);
    for (size_t i = 0; i < sw.ninput_words; i++)
        if (!sw.input_words[2 * i])
            free(sw.input_words[2 * i + 1]);
    free(sw.input_words);
    free_argv(sw.base.v), free_argv(sw.inputs_args.v), free_argv(sw.all.v);
    free_grid(&sw.g);
    return rc;
}

static int sweep(sweep_t *sw, int argc, char **argv, const char *cmdline)
{
    grid_t *g = &sw->g;
    const char *dir = NULL, *emit_jobs = NULL, *emit_slurm = NULL;
    unsigned jobs = 0;
    int quiet = 0, threads_given = 0;
    argv_t *base = &sw->base, *inputs_args = &sw->inputs_args, *all = &sw->all;
    push(base, "agilesim");
    push(base, "compare");
    size_t nbase_fixed = base->n;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *eq = strchr(a, '=');
        char name[64];
        snprintf(name, sizeof(name), "%.*s", eq && a[0] == '-' ? (int)(eq - a) : (int)strlen(a), a);
        const char *val = eq && a[0] == '-' ? eq + 1 : NULL;
#define VALUE() (val ? val : i + 1 < argc ? argv[++i] : (ags_cli_die(EXIT_USAGE, "sweep: %s needs a value", name), ""))
        if (!strcmp(name, "-o") || !strcmp(name, "--output")) {
            dir = VALUE();
        } else if (!strcmp(name, "-j") || !strcmp(name, "--jobs")) {
            const char *v = VALUE();
            char *end;
            unsigned long n = strtoul(v, &end, 10);
            if (!strcmp(v, "all"))
                n = 0;
            else if (*end || !*v || !n || n > 4096 || v[0] == '-' || v[0] == '+')
                ags_cli_die(EXIT_USAGE, "sweep: -j: invalid value '%s' (expected 1..4096 or all)", v);
            jobs = (unsigned)n;
        } else if (!strcmp(name, "--emit-jobs")) {
            emit_jobs = VALUE();
        } else if (!strcmp(name, "--emit-slurm")) {
            emit_slurm = VALUE();
        } else if (!strcmp(name, "--quiet")) {
            quiet = 1;
        } else if (!strcmp(name, "--param")) {
            const char *v = VALUE();
            const char *pe = strchr(v, '=');
            if (!pe || pe == v || !pe[1])
                ags_cli_die(EXIT_USAGE, "sweep: --param: invalid value '%s' (expected NAME=V1,V2,...)", v);
            char pname[64];
            snprintf(pname, sizeof(pname), "%.*s", (int)(pe - v), v);
            const char *canon = NULL;
            int ar = ags_cli_option_arity(pname, CMD_COMPARE, &canon);
            if (ar < 0)
                ags_cli_die(EXIT_USAGE, "sweep: --param %s: not an option of compare (see 'agilesim compare --help')", pname);
            if (ar == 0)
                ags_cli_die(EXIT_USAGE, "sweep: --param %s: a flag, it takes no value (give it to every point, or sweep a "
                                        "value option)", pname);
            if (is_report_option(canon))
                ags_cli_die(EXIT_USAGE, "sweep: --param %s: not a parameter (inputs are given as to compare; every point "
                                        "runs each input; sweep writes the reports)", pname);
            if (g->nparams == MAX_PARAMS)
                ags_cli_die(EXIT_USAGE, "sweep: at most %d parameters", MAX_PARAMS);
            for (size_t k = 0; k < g->nparams; k++)
                if (!strcmp(g->params[k].name, canon + 2))
                    ags_cli_die(EXIT_USAGE, "sweep: --param %s given twice", canon + 2);
            param_t *p = &g->params[g->nparams++];
            p->name = xstrdup(canon + 2);
            for (const char *s = pe + 1; s;) {
                const char *c = strchr(s, ',');
                size_t len = c ? (size_t)(c - s) : strlen(s);
                if (!len || memchr(s, '\t', len) || memchr(s, '\n', len))
                    ags_cli_die(EXIT_USAGE, "sweep: --param %s: invalid list '%s' (values separated by commas, none "
                                            "empty; for a list value such as --modes, join with +)", pname, pe + 1);
                p->vals = xgrow(p->vals, (p->nvals + 1) * sizeof(char *));
                p->vals[p->nvals] = xmalloc(len + 1);
                memcpy(p->vals[p->nvals++], s, len);
                s = c ? c + 1 : NULL;
            }
        } else if (!strcmp(a, "--")) {
            ags_cli_die(EXIT_USAGE, "sweep: a live command (--) is not swept; record it first (agilesim record -o T.agt -- CMD)");
        } else if (a[0] == '-' && a[1]) {
            const char *canon = NULL;
            int ar = ags_cli_option_arity(name, CMD_COMPARE, &canon);
            if (ar >= 0 && is_report_option(canon) && strcmp(canon, "--workload"))
                ags_cli_die(EXIT_USAGE, "sweep: %s: sweep writes the reports into -o DIR (sweep.json, sweep.csv, "
                                        "sweep-PARAM.svg)", canon);
            if (ar >= 0 && !strcmp(canon, "--threads"))
                threads_given = 1;
            if (ar >= 0 && !strcmp(canon, "--workload")) {
                push(inputs_args, a);
                if (!val && i + 1 < argc)
                    push(inputs_args, argv[++i]);
                continue;
            }
            push(base, a); /* compare's parser says what is wrong with it, below */
            if (ar == 1 && !val && i + 1 < argc)
                push(base, argv[++i]);
        } else {
            if (!strcmp(a, "-"))
                ags_cli_die(EXIT_USAGE, "sweep: standard input is read once; give the trace as a file");
            push(inputs_args, a);
        }
#undef VALUE
    }
    if (!dir)
        ags_cli_die(EXIT_USAGE, "sweep: -o DIR is required (the points' results and the merged reports go there; "
                                "see 'agilesim sweep --help')");
    /* every option and input as compare sees them: any error is compare's one line */
    ags_cli_opts_t o;
    ags_cli_defaults(&o, CMD_COMPARE, "sweep");
    for (size_t i = 0; i < base->n; i++)
        push(all, base->v[i]);
    for (size_t i = 0; i < inputs_args->n; i++)
        push(all, inputs_args->v[i]);
    int rest = 0;
    ags_cli_parse(&o, (int)all->n, all->v, (int)nbase_fixed, &rest);
    for (size_t k = 0; k < g->nparams; k++) /* each value, once */
        for (size_t j = 0; j < g->params[k].nvals; j++) {
            ags_cli_opts_t t;
            ags_cli_defaults(&t, CMD_COMPARE, "sweep");
            char opt[80];
            snprintf(opt, sizeof(opt), "--%s", g->params[k].name);
            char *one[] = { "agilesim", "compare", opt, g->params[k].vals[j], NULL };
            ags_cli_parse(&t, 4, one, 2, &rest);
        }
    if (!o.ninputs) /* compare's default */
        ags_cli_add_suite(&o);
    char **input_words = sw->input_words = xmalloc(o.ninputs * 2 * sizeof(char *));
    sw->ninput_words = o.ninputs;
    g->inputs = xmalloc(o.ninputs * sizeof(char *));
    g->ninputs = o.ninputs;
    for (size_t i = 0; i < o.ninputs; i++) {
        if (o.is_trace[i]) {
            char abs[PATH_MAX];
            if (!realpath(o.inputs[i], abs))
                ags_cli_die(EXIT_USAGE, "sweep: %s: %s", o.inputs[i], strerror(errno));
            input_words[2 * i] = NULL;
            input_words[2 * i + 1] = xstrdup(abs);
            const char *b = strrchr(abs, '/');
            g->inputs[i] = xstrdup(b ? b + 1 : abs);
        } else {
            input_words[2 * i] = "--workload";
            input_words[2 * i + 1] = (char *)o.inputs[i];
            g->inputs[i] = xstrdup(o.inputs[i]);
        }
    }
    size_t ngrid = 1;
    for (size_t k = 0; k < g->nparams; k++) {
        if (ngrid > MAX_POINTS / g->params[k].nvals)
            ags_cli_die(EXIT_USAGE, "sweep: more than %d points", MAX_POINTS);
        ngrid *= g->params[k].nvals;
    }
    if (ngrid > MAX_POINTS / g->ninputs)
        ags_cli_die(EXIT_USAGE, "sweep: more than %d points", MAX_POINTS);
    /* the directory */
    if (mkdir(dir, 0777) && errno != EEXIST)
        ags_cli_die(EXIT_USAGE, "sweep: -o %s: cannot create: %s", dir, strerror(errno));
    if (!realpath(dir, g->dir))
        ags_cli_die(EXIT_USAGE, "sweep: -o %s: %s", dir, strerror(errno));
    struct stat st;
    if (stat(g->dir, &st) || !S_ISDIR(st.st_mode))
        ags_cli_die(EXIT_USAGE, "sweep: -o %s: not a directory", dir);
    char pdir[PATH_MAX + 16];
    snprintf(pdir, sizeof(pdir), "%s/points", g->dir);
    if ((mkdir(pdir, 0777) && errno != EEXIST) || access(pdir, W_OK))
        ags_cli_die(EXIT_USAGE, "sweep: -o %s: cannot write %s: %s", dir, pdir, strerror(errno));
    char self[PATH_MAX];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (sl <= 0)
        ags_cli_die(1, "sweep: cannot find agilesim's own binary: %s", strerror(errno));
    self[sl] = 0;
    /* the points: input-major, the last parameter fastest */
    g->npts = ngrid * g->ninputs;
    g->pts = xmalloc(g->npts * sizeof(point_t));
    char ***argvs = sw->argvs = xmalloc(g->npts * sizeof(char **));
    for (size_t i = 0; i < g->npts; i++) {
        point_t *p = &g->pts[i];
        p->input = i / ngrid;
        for (size_t k = g->nparams, r = i % ngrid; k-- > 0;) {
            p->vi[k] = r % g->params[k].nvals;
            r /= g->params[k].nvals;
        }
        argv_t a = { 0 };
        push(&a, self);
        for (size_t w = 1; w < base->n; w++)
            push(&a, base->v[w]);
        if (input_words[2 * p->input])
            push(&a, input_words[2 * p->input]);
        push(&a, input_words[2 * p->input + 1]);
        for (size_t k = 0; k < g->nparams; k++) {
            char opt[80], label[600];
            snprintf(opt, sizeof(opt), "--%s", g->params[k].name);
            snprintf(label, sizeof(label), "%s=%s", g->params[k].name, g->params[k].vals[p->vi[k]]);
            push(&a, opt);
            push(&a, g->params[k].vals[p->vi[k]]);
            push(&a, "--label");
            push(&a, label);
        }
        if (!threads_given) { /* the points run side by side; results are the same for every --threads */
            push(&a, "--threads");
            push(&a, "1");
        }
        char jp[PATH_MAX + 32];
        point_path(g, i, "json", jp, sizeof(jp));
        p->json = xstrdup(jp);
        push(&a, "--json");
        push(&a, jp);
        push(&a, "--quiet");
        argvs[i] = a.v;
        p->cmdline = join(a.v);
    }
    char path[PATH_MAX + 32];
    jobs_t jj = { g, argvs };
    snprintf(path, sizeof(path), "%s/jobs.txt", g->dir);
    if (write_out(path, "-o", write_jobs_argv, &jj))
        return 1;
    snprintf(path, sizeof(path), "%s/sweep.tsv", g->dir);
    if (write_out(path, "-o", write_manifest_cb, g))
        return 1;
    if (emit_jobs && write_out(emit_jobs, "--emit-jobs", write_jobs_argv, &jj))
        return 1;
    if (emit_slurm && write_out(emit_slurm, "--emit-slurm", write_slurm, g))
        return 1;
    if (emit_jobs || emit_slurm) {
        fprintf(stderr, "agilesim: sweep: %zu points (%zu inputs x %zu parameter combinations): one command per line in %s",
                g->npts, g->ninputs, ngrid, emit_jobs ? emit_jobs : path);
        if (emit_slurm)
            fprintf(stderr, "; Slurm array script %s", emit_slurm);
        fprintf(stderr, "\nagilesim: when they have run: agilesim merge %s\n", g->dir);
        return 0;
    }
    /* run */
    if (!jobs) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = n > 0 ? (unsigned)n : 1;
    }
    size_t todo = 0, skipped = 0;
    for (size_t i = 0; i < g->npts; i++) {
        result_t r;
        load_result(&g->pts[i], &r);
        if (r.doc) {
            g->pts[i].done = 1;
            skipped++;
            ags_json_free(r.doc);
        } else {
            todo++;
        }
    }
    if (!quiet)
        fprintf(stderr, "agilesim: sweep: %zu points (%zu inputs x %zu parameter combinations), %zu complete from an "
                        "earlier run, %zu to run, %u at a time; results in %s\n",
                g->npts, g->ninputs, ngrid, skipped, todo, jobs, g->dir);
    ags_cli_install_signals();
    size_t next = 0, running = 0, finished = 0, failed = 0;
    int killed = 0;
    double t_start = now();
    for (;;) {
        while (!ags_cli_stop && running < jobs && next < g->npts) {
            if (g->pts[next].done) {
                next++;
                continue;
            }
            pid_t c = start_point(g, next, argvs[next], self);
            if (c < 0) {
                fprintf(stderr, "agilesim: sweep: fork: %s\n", strerror(errno));
                ags_cli_stop = SIGTERM; /* stop as a signal would: wait for the others, merge, exit */
                break;
            }
            g->pts[next].pid = c;
            g->pts[next].t0 = now();
            running++;
            next++;
        }
        if (ags_cli_stop && !killed) {
            for (size_t i = 0; i < g->npts; i++)
                if (g->pts[i].pid > 0)
                    kill(g->pts[i].pid, SIGTERM);
            killed = 1;
        }
        if (!running)
            break;
        int status;
        pid_t w = waitpid(-1, &status, 0);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            ags_cli_die(1, "sweep: waitpid: %s", strerror(errno));
        }
        size_t i = 0;
        while (i < g->npts && g->pts[i].pid != w)
            i++;
        if (i == g->npts)
            continue;
        point_t *p = &g->pts[i];
        p->pid = 0;
        running--;
        char params[512], log[PATH_MAX + 32];
        point_params(g, p, params, sizeof(params));
        point_path(g, i, "log", log, sizeof(log));
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            p->done = 1;
            finished++;
            if (!quiet)
                fprintf(stderr, "agilesim: sweep: [%zu/%zu] point %zu (%s%s%s) %.1fs\n", finished + skipped, g->npts, i,
                        g->inputs[p->input], g->nparams ? ", " : "", params, now() - p->t0);
        } else if (ags_cli_stop && ((WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SIGNAL) || WIFSIGNALED(status))) {
            /* stopped by us: redone when the sweep is started again */
        } else {
            char why[1024];
            last_line(log, why, sizeof(why));
            p->done = 2;
            failed++;
            char how[32];
            if (WIFEXITED(status))
                snprintf(how, sizeof(how), "exit %d", WEXITSTATUS(status));
            else
                snprintf(how, sizeof(how), "signal %d", WTERMSIG(status));
            fprintf(stderr, "agilesim: sweep: point %zu (%s%s%s) failed (%s): %s [command: line %zu of %s/jobs.txt; log %s]\n",
                    i, g->inputs[p->input], g->nparams ? ", " : "", params, how, why[0] ? why : "no message", i + 1,
                    g->dir, log);
        }
    }
    if (!quiet)
        fprintf(stderr, "agilesim: sweep: ran %zu point(s) in %.1fs%s\n", finished, now() - t_start,
                ags_cli_stop ? "; interrupted: the same command resumes, skipping the complete points" : "");
    long missing = merge_into(g, cmdline, quiet);
    if (ags_cli_stop)
        return EXIT_SIGNAL;
    return missing || failed ? 1 : 0;
}
