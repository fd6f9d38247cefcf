/* Model notes: none — counts what a trace holds (agilesim info); pages touched are counted in a
 * set of (pid, page) keys. */
#include "agilesim/error.h"
#include "agilesim/trace.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>

struct ags_summarizer {
    ags_trace_summary_t sum;
    ags_u64set_t pages, threads;
};

int ags_summarizer_create(ags_summarizer_t **out)
{
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return AGS_E_NOMEM;
    (*out)->sum.lo = UINT64_MAX;
    return AGS_OK;
}

int ags_summarizer_add(ags_summarizer_t *s, const ags_event_t *ev, size_t n)
{
    ags_trace_summary_t *t = &s->sum;
    for (size_t i = 0; i < n; i++) {
        const ags_event_t *e = &ev[i];
        t->events++;
        if (e->type < AGS_EV_TYPE_COUNT)
            t->types[e->type]++;
        t->instructions += e->icount;
        int seen = 0;
        for (size_t k = 0; k < t->npids && !seen; k++)
            seen = t->pids[k] == e->pid;
        if (!seen) {
            if (t->npids < 64)
                t->pids[t->npids++] = e->pid;
            else
                t->more_pids = 1;
        }
        if (e->type != AGS_EV_ACCESS)
            continue;
        t->kinds[e->kind & 3]++;
        if (e->tid && ags_u64set_add(&s->threads, (uint64_t)e->pid << 32 | e->tid))
            return AGS_E_NOMEM;
        if (ags_u64set_add(&s->pages, ((uint64_t)e->pid << 40) ^ (e->addr >> 12)))
            return AGS_E_NOMEM;
        t->lo = AGS_MIN(t->lo, e->addr);
        t->hi = AGS_MAX(t->hi, e->addr);
    }
    t->pages = s->pages.n;
    t->threads = s->threads.n;
    return AGS_OK;
}

void ags_summarizer_get(const ags_summarizer_t *s, ags_trace_summary_t *out) { *out = s->sum; }

void ags_summarizer_destroy(ags_summarizer_t *s)
{
    if (!s)
        return;
    ags_u64set_free(&s->pages);
    ags_u64set_free(&s->threads);
    free(s);
}
