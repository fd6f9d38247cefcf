/* Model notes: guest-physical frames. A bump allocator with free lists of order 0, 9 and 18
 * (4 KiB, 2 MiB, 1 GiB); blocks are not coalesced. Every frame has a reference count (fork
 * shares frames copy-on-write). A frame is backed in the EPT when it is allocated. */
#include "guest/guest_internal.h"
#include "util.h"
#include <string.h>


int ags_g_ref_ensure(ags_guest_t *g, uint64_t gpfn_end)
{
    return ags_grow((void **)&g->ref, &g->capref, sizeof(uint32_t), (size_t)gpfn_end);
}

int ags_g_push_u64(uint64_t **arr, size_t *n, size_t *cap, uint64_t v)
{
    if (*n == *cap && ags_grow((void **)arr, cap, sizeof(uint64_t), *n))
        return -1;
    (*arr)[(*n)++] = v;
    return 0;
}

/* Allocate 2^order guest frames; back them in the EPT. Returns gPFN or 0. */
uint64_t ags_g_frame_alloc(ags_guest_t *g, unsigned order)
{
    unsigned oi = ags_g_order_index(order);
    uint64_t n = 1ULL << order, f;
    if (g->ngfree[oi]) {
        f = g->gfree[oi][--g->ngfree[oi]];
    } else {
        f = (g->gnext + n - 1) & ~(n - 1);
        /* keep the small-frame bump from fragmenting large alignment: skipped frames are freed */
        for (uint64_t s = g->gnext; s < f; s++)
            if (ags_g_push_u64(&g->gfree[0], &g->ngfree[0], &g->capgfree[0], s))
                return 0;
        g->gnext = f + n;
        if (ags_g_ref_ensure(g, g->gnext + 1))
            return 0;
    }
    for (uint64_t i = 0; i < n; i += (1ULL << (g->ept->page_shift - 12)) ) {
        int r = ags_ept_back(g->ept, f + i);
        if (r < 0)
            return 0;
        if (r == AGS_EPT_NEWLY_BACKED && g->ls.host_backed)
            g->ls.host_backed(g->ls.ctx, f + i);
    }
    for (uint64_t i = 0; i < n; i++)
        g->ref[f + i] = 1;
    g->frames_in_use += n;
    g->st.frames_alloc += n;
    if (g->frames_in_use > g->st.frames_peak)
        g->st.frames_peak = g->frames_in_use;
    return f;
}

/* Drop one reference on each of the 2^order frames at f; return freed frames to the lists. */
void ags_g_frame_put(ags_guest_t *g, uint64_t f, unsigned order)
{
    uint64_t n = 1ULL << order, freed = 0;
    for (uint64_t i = 0; i < n; i++)
        if (g->ref[f + i] && --g->ref[f + i] == 0)
            freed++;
    if (!freed)
        return;
    g->frames_in_use -= freed;
    g->st.frames_free += freed;
    if (freed == n) {
        if (ags_g_push_u64(&g->gfree[ags_g_order_index(order)], &g->ngfree[ags_g_order_index(order)],
                 &g->capgfree[ags_g_order_index(order)], f))
            g->sticky = AGS_E_NOMEM;
    } else {
        for (uint64_t i = 0; i < n; i++)
            if (g->ref[f + i] == 0)
                if (ags_g_push_u64(&g->gfree[0], &g->ngfree[0], &g->capgfree[0], f + i))
                    g->sticky = AGS_E_NOMEM;
    }
}

void ags_g_frame_get(ags_guest_t *g, uint64_t f, unsigned order)
{
    for (uint64_t i = 0; i < (1ULL << order); i++)
        g->ref[f + i]++;
}
