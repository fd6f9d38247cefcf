/* Model notes: Valgrind Lackey (--trace-mem=yes, optionally --trace-syscalls=yes): "I  addr,size"
 * is an instruction fetch and one instruction; " L", " S", " M" are load, store, modify. SYSCALL
 * lines of mmap, munmap, mprotect, brk and mremap become address-space events (a successful result
 * only; async calls are completed by their "[async] --> Success" line); a successful clone
 * (without CLONE_VM), fork or vfork becomes a fork event naming the child, a successful
 * exit_group an exit event. The process id comes from the "==PID==" banner. Other system calls
 * are ignored. */
#include "trace/reader_impl.h"
#include <ctype.h>
#include <string.h>

/* a number as Valgrind prints syscall arguments: 0x... hex or decimal */
static const char *parse_num(const char *p, const char *e, uint64_t *v)
{
    while (p < e && *p == ' ')
        p++;
    if (e - p > 2 && p[0] == '0' && p[1] == 'x')
        return ags_rd_parse_hex(p, e, v);
    return ags_rd_parse_dec(p, e, v);
}

/* Valgrind prints the flags of clone in hex without "0x" (e.g. "1200011" for bash's fork). */
#define LK_CLONE_THREAD 0x00010000ULL

/* A fork of child; 0 if this child's fork was already emitted. */
static int lk_fork(ags_reader_t *r, uint32_t pid, uint64_t child)
{
    for (unsigned i = 0; i < 16; i++)
        if (r->forked[i] == child)
            return 0;
    r->forked[r->nforked++ & 15] = (uint32_t)child;
    ags_event_t *e = ags_rd_qpush(r);
    e->type = AGS_EV_FORK;
    e->pid = pid;
    e->arg = child;
    return 1;
}

static void lk_syscall_event(ags_reader_t *r, uint32_t pid, const char *name, const uint64_t *a, uint64_t res)
{
    ags_event_t *e;
    if (!strcmp(name, "mmap")) {
        e = ags_rd_qpush(r), e->type = AGS_EV_MMAP, e->addr = res, e->len = a[1], e->arg = a[2] & 7;
    } else if (!strcmp(name, "munmap")) {
        e = ags_rd_qpush(r), e->type = AGS_EV_MUNMAP, e->addr = a[0], e->len = a[1];
    } else if (!strcmp(name, "mprotect")) {
        e = ags_rd_qpush(r), e->type = AGS_EV_MPROTECT, e->addr = a[0], e->len = a[1], e->arg = a[2] & 7;
    } else if (!strcmp(name, "brk")) {
        e = ags_rd_qpush(r), e->type = AGS_EV_BRK, e->addr = res;
    } else if (!strcmp(name, "mremap")) {
        e = ags_rd_qpush(r), e->type = AGS_EV_MREMAP, e->addr = a[0], e->len = a[1], e->arg = res, e->arg2 = a[2];
    } else if (!strcmp(name, "clone") || !strcmp(name, "fork") || !strcmp(name, "vfork")) {
        /* a new process; a clone with CLONE_THREAD is a thread (ignored). CLONE_VM alone (with
         * CLONE_VFORK: posix_spawn, Python's subprocess) is a new process sharing memory until
         * its exec. */
        if (res && res <= UINT32_MAX && !(!strcmp(name, "clone") && (a[0] & LK_CLONE_THREAD)))
            lk_fork(r, pid, res);
        return;
    } else {
        return;
    }
    e->pid = pid;
}

static int lk_syscall(ags_reader_t *r, const char *s, const char *e)
{
    /* SYSCALL[pid,tid](nr) sys_NAME ( a, b, ... ) --> ... Success(0xRES)
     * SYSCALL[pid,tid](nr) ... [async] --> Success(0xRES) */
    uint64_t pid, tid;
    const char *p = s + 8;
    if (!(p = ags_rd_parse_dec(p, e, &pid)) || p >= e || *p != ',' || !(p = ags_rd_parse_dec(p + 1, e, &tid)) || p >= e || *p != ']')
        return ags_rd_err(r, AGS_E_FORMAT, "line %llu: malformed SYSCALL line", (unsigned long long)r->line), AGS_UNIT_ERR;
    if (pid > UINT32_MAX)
        return ags_rd_err(r, AGS_E_FORMAT, "line %llu: pid out of range", (unsigned long long)r->line), AGS_UNIT_ERR;
    const char *succ = ags_rd_find(p, e, "Success(");
    const char *failed = ags_rd_find(p, e, "Failure(");
    uint64_t res = 0;
    if (succ && !ags_rd_parse_hex(succ + 8, e, &res))
        return ags_rd_err(r, AGS_E_FORMAT, "line %llu: malformed Success(...) result", (unsigned long long)r->line), AGS_UNIT_ERR;
    if (ags_rd_find(p, e, ") exit_group(") && succ) { /* the process ends */
        ags_event_t *x = ags_rd_qpush(r);
        x->type = AGS_EV_EXIT;
        x->pid = (uint32_t)pid;
        return 0;
    }
    const char *nm = ags_rd_find(p, e, " sys_");
    if (!nm) { /* completion of an async call */
        if (!ags_rd_find(p, e, "[async]"))
            return 0;
        for (int i = 0; i < 8; i++)
            if (r->pend[i].used && r->pend[i].pid == pid && r->pend[i].tid == tid) {
                r->pend[i].used = 0;
                if (succ)
                    lk_syscall_event(r, (uint32_t)pid, r->pend[i].name, r->pend[i].a, res);
                return 0;
            }
        return 0;
    }
    nm += 5;
    char name[16];
    size_t nl = 0;
    while (nm + nl < e && (isalnum((unsigned char)nm[nl]) || nm[nl] == '_') && nl < sizeof(name) - 1)
        nl++;
    memcpy(name, nm, nl);
    name[nl] = 0;
    if (strcmp(name, "mmap") && strcmp(name, "munmap") && strcmp(name, "mprotect") && strcmp(name, "brk") &&
        strcmp(name, "mremap") && strcmp(name, "clone") && strcmp(name, "fork") && strcmp(name, "vfork"))
        return 0;
    uint64_t a[6] = { 0 };
    const char *ap = ags_rd_find(nm + nl, e, "(");
    if (!ap)
        return ags_rd_err(r, AGS_E_FORMAT, "line %llu: sys_%s without arguments", (unsigned long long)r->line, name), AGS_UNIT_ERR;
    ap++;
    for (int i = 0; i < 6; i++) {
        const char *q = parse_num(ap, e, &a[i]);
        if (!q) {
            while (ap < e && *ap == ' ')
                ap++;
            if (ap < e && isdigit((unsigned char)*ap)) /* a number that does not fit in 64 bits */
                return ags_rd_err(r, AGS_E_FORMAT, "line %llu: sys_%s argument %d out of range", (unsigned long long)r->line,
                                  name, i + 1), AGS_UNIT_ERR;
            break;
        }
        while (q < e && *q == ' ')
            q++;
        if (q < e && *q == ',')
            ap = q + 1;
        else
            break;
    }
    if (!strcmp(name, "clone")) { /* the flags are hex without 0x */
        const char *q = ags_rd_find(nm + nl, e, "(");
        while (q && ++q < e && *q == ' ')
            ;
        if (!q || !ags_rd_parse_hex(q, e, &a[0]))
            a[0] = 0;
    }
    /* A fork names its child on the SYSCALL line ("... created child N"); its result line
     * " --> Success(N)" may come after lines of the child (which writes to the parent's log until
     * it execs), so the child is taken from this line. */
    const char *cc = name[0] != 'm' && name[0] != 'b' ? ags_rd_find(nm + nl, e, "created child ") : NULL;
    uint64_t child;
    if (cc && ags_rd_parse_dec(cc + 14, e, &child)) {
        lk_syscall_event(r, (uint32_t)pid, name, a, child);
    } else if (succ) {
        lk_syscall_event(r, (uint32_t)pid, name, a, res);
    } else if (!failed && !ags_rd_find(p, e, "[async]")) { /* result on the next " --> " line */
        r->cont.used = 1;
        r->cont.pid = (uint32_t)pid;
        r->cont.tid = (uint32_t)tid;
        memcpy(r->cont.name, name, sizeof(name));
        memcpy(r->cont.a, a, sizeof(a));
    } else if (!failed && ags_rd_find(p, e, "[async]")) {
        for (int i = 0; i < 8; i++)
            if (!r->pend[i].used) {
                pending_t *pd = &r->pend[i];
                pd->used = 1;
                pd->pid = (uint32_t)pid;
                pd->tid = (uint32_t)tid;
                memcpy(pd->name, name, sizeof(name));
                memcpy(pd->a, a, sizeof(a));
                break;
            }
    }
    return 0;
}

/* A line Valgrind garbled (a child writes to its parent's log until it execs, and its output
 * can land inside the parent's line) may still hold the parent's "process P created child C":
 * the fork is taken from it. Returns 1 if it was. */
static int lk_salvage_fork(ags_reader_t *r, const char *s, const char *e)
{
    const char *cc = ags_rd_find(s, e, "created child ");
    uint64_t parent, child;
    if (!cc)
        return 0;
    const char *pp = NULL;
    for (const char *q = s; (q = ags_rd_find(q, cc, "process ")) != NULL; q++)
        pp = q; /* the last "process " before it */
    if (!pp || !ags_rd_parse_dec(pp + 8, cc, &parent) || !ags_rd_parse_dec(cc + 14, e, &child) || !parent || !child ||
        parent > UINT32_MAX || child > UINT32_MAX)
        return 0;
    r->salvaged += (uint64_t)lk_fork(r, (uint32_t)parent, child);
    return 1;
}

int ags_lackey_unit(ags_reader_t *r)
{
    const char *s, *e;
    int rc = ags_rd_text_line(r, &s, &e);
    if (rc <= 0)
        return rc;
    size_t len = (size_t)(e - s);
    unsigned kind;
    const char *p;
    if (len >= 3 && s[0] == 'I' && s[1] == ' ' && s[2] == ' ') {
        kind = AGS_ACC_IFETCH;
        p = s + 3;
    } else if (len >= 3 && s[0] == ' ' && s[2] == ' ' && (s[1] == 'L' || s[1] == 'S' || s[1] == 'M')) {
        kind = s[1] == 'L' ? AGS_ACC_LOAD : s[1] == 'S' ? AGS_ACC_STORE : AGS_ACC_MODIFY;
        p = s + 3;
    } else if (len >= 2 && s[0] == '=' && s[1] == '=') {
        uint64_t pid;
        if (!r->lk_pid && ags_rd_parse_dec(s + 2, e, &pid) && pid && pid <= UINT32_MAX)
            r->lk_pid = (uint32_t)pid;
        return 1;
    } else if (len >= 8 && !memcmp(s, "SYSCALL[", 8)) {
        return lk_syscall(r, s, e) ? AGS_UNIT_ERR : AGS_UNIT_MORE;
    } else if (len >= 5 && !memcmp(s, " --> ", 5)) { /* the result line of a multi-line SYSCALL */
        const char *succ = ags_rd_find(s, e, "Success(");
        uint64_t res;
        if (r->cont.used && succ && ags_rd_parse_hex(succ + 8, e, &res))
            lk_syscall_event(r, r->cont.pid, r->cont.name, r->cont.a, res);
        r->cont.used = 0;
        return 1;
    } else if (len == 0 || (len >= 2 && ((s[0] == '-' && s[1] == '-') || (s[0] == '*' && s[1] == '*')))) {
        return 1; /* valgrind's own messages */
    } else if (r->lenient) {
        r->skipped++;
        lk_salvage_fork(r, s, e);
        return 1;
    } else {
        return UERR(r, AGS_E_FORMAT, "line %llu: expected 'I  addr,size', ' L|S|M addr,size' or a SYSCALL line",
                    (unsigned long long)r->line);
    }
    uint64_t addr = 0, size = 0;
    const char *q = ags_rd_parse_hex(p, e, &addr);
    int well = q && q < e && *q == ',' && (q = ags_rd_parse_dec(q + 1, e, &size)) != NULL && q == e && size > 0 &&
               size <= 65535;
    if (!well || !ags_rd_canon(r, addr)) {
        if (r->lenient) {
            r->skipped++;
            lk_salvage_fork(r, s, e);
            return 1;
        }
        if (!well)
            return UERR(r, AGS_E_FORMAT, "line %llu: expected hex address, comma, decimal size", (unsigned long long)r->line);
        return UERR(r, AGS_E_NONCANON, "line %llu: non-canonical address 0x%llx", (unsigned long long)r->line,
                    (unsigned long long)addr);
    }
    ags_rd_qacc(r, r->lk_pid ? r->lk_pid : 1, addr, kind, (unsigned)size, kind == AGS_ACC_IFETCH);
    return 1;
}
