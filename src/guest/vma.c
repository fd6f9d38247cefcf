/* Model notes: a process's virtual memory areas, kept sorted and non-overlapping; an insert
 * replaces what it overlaps (MAP_FIXED semantics), a remove splits at its ends. */
#include "guest/guest_internal.h"
#include "util.h"
#include <string.h>

/* Index of the first VMA that ends after va (nvma if none). */
static size_t vma_lower(const ags_proc_t *p, uint64_t va)
{
    size_t lo = 0, hi = p->nvma;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->vma[mid].end <= va)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

ags_vma_t *ags_g_vma_find(ags_proc_t *p, uint64_t va)
{
    size_t i = vma_lower(p, va);
    return i < p->nvma && p->vma[i].start <= va ? &p->vma[i] : NULL;
}

ags_vma_t *ags_guest_vma_around(ags_proc_t *p, uint64_t va, uint64_t *gap_lo, uint64_t *gap_hi)
{
    size_t i = vma_lower(p, va);
    if (i < p->nvma && p->vma[i].start <= va)
        return &p->vma[i];
    *gap_lo = i ? p->vma[i - 1].end : 0;
    *gap_hi = i < p->nvma ? p->vma[i].start : UINT64_MAX;
    return NULL;
}

/* Remove [s,e) from the VMA list, splitting as needed. */
int ags_g_vma_remove(ags_proc_t *p, uint64_t s, uint64_t e)
{
    for (size_t i = 0; i < p->nvma; i++) {
        ags_vma_t *v = &p->vma[i];
        if (v->end <= s || v->start >= e)
            continue;
        if (v->start < s && v->end > e) { /* split in two */
            if (ags_grow((void **)&p->vma, &p->capvma, sizeof(ags_vma_t), p->nvma))
                return AGS_E_NOMEM;
            v = &p->vma[i];
            memmove(&p->vma[i + 2], &p->vma[i + 1], (p->nvma - i - 1) * sizeof(ags_vma_t));
            p->vma[i + 1] = (ags_vma_t){ e, v->end, v->prot, v->region };
            v->end = s;
            p->nvma++;
            return AGS_OK;
        }
        if (v->start < s) {
            v->end = s;
        } else if (v->end > e) {
            v->start = e;
        } else {
            memmove(&p->vma[i], &p->vma[i + 1], (p->nvma - i - 1) * sizeof(ags_vma_t));
            p->nvma--;
            i--;
        }
    }
    return AGS_OK;
}

/* Does any VMA overlap [s, e)? */
int ags_g_vma_overlaps(const ags_proc_t *p, uint64_t s, uint64_t e)
{
    size_t i = vma_lower(p, s);
    return i < p->nvma && p->vma[i].start < e;
}

int ags_g_vma_insert(ags_proc_t *p, uint64_t s, uint64_t e, uint32_t prot)
{
    int r = ags_g_vma_remove(p, s, e);
    if (r)
        return r;
    if (ags_grow((void **)&p->vma, &p->capvma, sizeof(ags_vma_t), p->nvma))
        return AGS_E_NOMEM;
    size_t i = 0;
    while (i < p->nvma && p->vma[i].start < s)
        i++;
    memmove(&p->vma[i + 1], &p->vma[i], (p->nvma - i) * sizeof(ags_vma_t));
    p->vma[i] = (ags_vma_t){ s, e, prot, 0 };
    p->nvma++;
    return AGS_OK;
}
