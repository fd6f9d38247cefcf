/* Model notes: ChampSim (64-byte input_instr records): one instruction each: a fetch at ip, a
 * load per non-zero source address, a store per non-zero destination address (size 8: the
 * format does not say). One process (pid 1). */
#include "trace/reader_impl.h"
#include <string.h>

int ags_champsim_unit(ags_reader_t *r)
{
    long av = ags_bsrc_need(&r->b, 64);
    if (av < 0)
        return UERR(r, r->b.err, "%s", r->b.msg + strlen(r->b.name) + 2);
    if (av == 0)
        return 0;
    uint64_t off = r->b.base + r->b.pos;
    if (av < 64)
        return UERR(r, AGS_E_FORMAT, "truncated record at byte %llu (%ld of 64 bytes)", (unsigned long long)off, av);
    const uint8_t *p = r->b.buf + r->b.pos;
    r->b.pos += 64;
    uint64_t ip = agt_get_u64le(p);
    if (!ip)
        return UERR(r, AGS_E_FORMAT, "record at byte %llu: ip 0 (not an instruction; a file of zeros?)",
                    (unsigned long long)off);
    if (!ags_rd_canon(r, ip))
        return UERR(r, AGS_E_NONCANON, "record at byte %llu: non-canonical ip 0x%llx", (unsigned long long)off, (unsigned long long)ip);
    ags_rd_qacc(r, 1, ip, AGS_ACC_IFETCH, 4, 1);
    /* src_mem[4] at offset 32: loads; dst_mem[2] at offset 16: stores */
    static const struct { unsigned off, n, kind; } mem[2] = { { 32, 4, AGS_ACC_LOAD }, { 16, 2, AGS_ACC_STORE } };
    for (int m = 0; m < 2; m++)
        for (unsigned i = 0; i < mem[m].n; i++) {
            uint64_t a = agt_get_u64le(p + mem[m].off + 8 * i);
            if (!a)
                continue;
            if (!ags_rd_canon(r, a))
                return UERR(r, AGS_E_NONCANON, "record at byte %llu: non-canonical address 0x%llx", (unsigned long long)off,
                            (unsigned long long)a);
            ags_rd_qacc(r, 1, a, mem[m].kind, 8, 0);
        }
    return 1;
}
