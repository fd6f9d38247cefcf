/* Model notes: the host maps guest-physical memory with an Intel-format EPT of 4 or 5 levels
 * and one leaf size (4 KiB, 2 MiB or 1 GiB). Backing is created when the guest first allocates
 * a frame in a host page; under the default "prefault" policy this is free (equivalent to
 * backing all guest memory at boot, since walks never translate a gPA the guest has not
 * allocated); under "lazy" the sim charges one EPT-violation exit per newly backed host page.
 * Host pages are never reclaimed. EPT A/D bits exist in the format; the agile VMM's dirty
 * tracking reads its own per-host-page flags that model them (see vmm/agile.c). */
#include "mem/ept.h"
#include "pt/pt.h"
#include "util.h"
#include <string.h>

int ags_ept_init(ags_ept_t *e, ags_mem_t *mem, unsigned levels, unsigned page_shift)
{
    memset(e, 0, sizeof(*e));
    e->mem = mem;
    e->levels = levels;
    e->page_shift = page_shift;
    uint64_t f = ags_mem_alloc(mem, AGS_REGION_EPT, 0);
    if (!f || !ags_mem_pt_attach(mem, f, 0))
        return AGS_E_NOMEM;
    e->root_hpa = f << AGS_PAGE_SHIFT;
    e->table_pages = 1;
    return AGS_OK;
}

void ags_ept_fini(ags_ept_t *e)
{
    free(e->hp_base);
    e->hp_base = NULL;
}

int ags_ept_back(ags_ept_t *e, uint64_t gpfn)
{
    uint64_t gpa = gpfn << AGS_PAGE_SHIFT;
    size_t idx = (size_t)(gpa >> e->page_shift);
    if (idx < e->cap && e->hp_base[idx])
        return AGS_EPT_WAS_BACKED;
    if (ags_grow((void **)&e->hp_base, &e->cap, sizeof(uint64_t), idx))
        return AGS_E_NOMEM;
    unsigned order = e->page_shift - AGS_PAGE_SHIFT;
    uint64_t hf = ags_mem_alloc(e->mem, AGS_REGION_GUEST_BACKING, order);
    if (!hf)
        return AGS_E_NOMEM;
    uint64_t hpa = hf << AGS_PAGE_SHIFT;
    unsigned leaf = ags_pt_leaf_level(e->page_shift);
    uint64_t base = e->root_hpa;
    for (unsigned level = e->levels; level > leaf; level--) {
        uint64_t *ent = &ags_mem_pt(e->mem, base >> AGS_PAGE_SHIFT)[ags_pt_index(gpa, level)];
        if (!ags_ept_present(*ent)) {
            uint64_t f = ags_mem_alloc(e->mem, AGS_REGION_EPT, 0);
            if (!f || !ags_mem_pt_attach(e->mem, f, 0))
                return AGS_E_NOMEM;
            *ent = ags_ept_table(f << AGS_PAGE_SHIFT);
            e->table_pages++;
        }
        base = ags_pte_addr(*ent);
    }
    ags_mem_pt(e->mem, base >> AGS_PAGE_SHIFT)[ags_pt_index(gpa, leaf)] = ags_ept_page(hpa, leaf);
    e->hp_base[idx] = hpa;
    e->backed_pages++;
    return AGS_EPT_NEWLY_BACKED;
}
