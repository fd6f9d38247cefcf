/* Model notes: Intel Pin's pinatrace ("ip: R|W addr"): each line is one memory access by the
 * instruction at ip; an instruction fetch (3 instructions: roughly one x86 instruction in three
 * accesses memory) is emitted when ip changes. */
#include "trace/reader_impl.h"

int ags_pinatrace_unit(ags_reader_t *r)
{
    const char *s, *e;
    int rc = ags_rd_text_line(r, &s, &e);
    if (rc <= 0)
        return rc;
    if (s == e || *s == '#')
        return 1;
    uint64_t ip, addr;
    const char *p = ags_rd_parse_hex(s, e, &ip);
    if (!p || e - p < 4 || p[0] != ':' || p[1] != ' ' || (p[2] != 'R' && p[2] != 'W') || p[3] != ' ')
        return UERR(r, AGS_E_FORMAT, "line %llu: expected 'ip: R|W addr'", (unsigned long long)r->line);
    unsigned kind = p[2] == 'R' ? AGS_ACC_LOAD : AGS_ACC_STORE;
    const char *q = ags_rd_parse_hex(p + 4, e, &addr);
    if (!q || q != e)
        return UERR(r, AGS_E_FORMAT, "line %llu: expected a hex address after R/W", (unsigned long long)r->line);
    if (!ags_rd_canon(r, addr) || !ags_rd_canon(r, ip))
        return UERR(r, AGS_E_NONCANON, "line %llu: non-canonical address 0x%llx", (unsigned long long)r->line,
                    (unsigned long long)(ags_rd_canon(r, addr) ? ip : addr));
    if (ip != r->prev_ip) {
        ags_rd_qacc(r, 1, ip, AGS_ACC_IFETCH, 4, 3);
        r->prev_ip = ip;
    }
    ags_rd_qacc(r, 1, addr, kind, 8, 0);
    return 1;
}
