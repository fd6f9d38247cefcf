/* agstrace — agilesim's Valgrind tool: records a program's memory accesses and address-space
 * events as a compact binary stream for `agilesim record`.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 * This folder links Valgrind's GPL core and is licensed GPL-2.0-or-later; the rest of agilesim
 * keeps its own license.
 *
 * Model notes: every guest instruction is one fetch record (address, length) and every data
 * access one load/store/modify record (address, size), in program order, exactly as Lackey
 * reports them (a store to the address a load of the same instruction read, with the same size,
 * is one modify). Instrumentation batches them: a run of consecutive instructions is copied
 * from a template built once per translation, so a helper call costs a copy, not a format.
 * Address-space events come from the system-call wrappers with the kernel's results: mmap,
 * munmap, mprotect, brk, mremap, madvise(MADV_DONTNEED), fork/vfork/clone/clone3 (a clone is a
 * thread only with CLONE_THREAD), execve/execveat (the buffer is flushed before the call; a new
 * image then starts a new stream under the same pid) and the process's exit. A thread switch is
 * a tid record carrying the kernel thread id.
 *
 * Output: records are buffered and written to the file descriptor of --agilesim-out (a FIFO in a
 * private directory that the recorder created) in chunks of at most 4096 bytes, each a header
 * word (magic, pid, word count) followed by the words, so that chunks of several processes
 * writing the same FIFO never interleave (POSIX: writes of up to PIPE_BUF bytes are atomic).
 * The descriptor is moved out of the client's reach (Valgrind's reserved range). Record words:
 *   top byte T = size << 2 | kind (size 1..63): an access; the low 56 bits are the address
 *   (sign-extended from bit 55);
 *   T = 0: a control record, low byte = type, next byte = the number of argument words after it.
 * Simplified: a region of interest (client requests from agilesim/roi.h, --roi=yes) and
 * accesses outside it are not recorded; address-space events always are. */
#include "pub_tool_basics.h"
#include "pub_tool_tooliface.h"
#include "pub_tool_libcassert.h"
#include "pub_tool_libcprint.h"
#include "pub_tool_libcbase.h"
#include "pub_tool_libcfile.h"
#include "pub_tool_libcproc.h"
#include "pub_tool_machine.h"
#include "pub_tool_mallocfree.h"
#include "pub_tool_options.h"
#include "pub_tool_aspacemgr.h"
#include "pub_tool_threadstate.h"
#include "pub_tool_vkiscnums.h"
#include "pub_tool_vki.h"
#include "pub_tool_clreq.h"

#include "../../include/agilesim/vgstream.h"
#include "../../include/agilesim/roi.h"

/* Valgrind core: move a descriptor into the reserved range the client cannot close. */
extern Int VG_(safe_fd)(Int oldfd);

/* ------------------------------------------------------------------ options */

static const HChar *clo_out = NULL;
static Bool clo_roi = False;

static Bool ags_process_cmd_line_option(const HChar *arg)
{
    if VG_STR_CLO(arg, "--agilesim-out", clo_out) {
    } else if VG_BOOL_CLO(arg, "--roi", clo_roi) {
    } else
        return False;
    return True;
}

static void ags_print_usage(void)
{
    VG_(printf)("    --agilesim-out=PATH      the FIFO agilesim record reads [none: required]\n"
                "    --roi=no|yes             record accesses only inside the region marked with\n"
                "                             AGILESIM_ROI_BEGIN/END (agilesim/roi.h) [no]\n");
}

static void ags_print_debug_usage(void)
{
    VG_(printf)("    (none)\n");
}

/* ------------------------------------------------------------------ the buffer */

static Int out_fd = -1;
static UInt my_pid;
static Bool active = True; /* accesses are recorded (False outside a region of interest) */
static Int last_tid = -1;
static ULong failed_writes;

static ULong chunk[AGS_VGS_CHUNK_WORDS + 1];
static ULong *bufp = chunk + 1;
#define BUF_END (chunk + 1 + AGS_VGS_CHUNK_WORDS)

static void flush(void)
{
    UWord n = (UWord)(bufp - (chunk + 1));
    if (n == 0 || out_fd < 0) {
        bufp = chunk + 1;
        return;
    }
    chunk[0] = AGS_VGS_HDR(my_pid, n);
    const UChar *p = (const UChar *)chunk;
    Int left = (Int)((n + 1) * sizeof(ULong));
    /* one write of at most PIPE_BUF bytes: atomic, so complete unless the reader is gone */
    while (left > 0) {
        Int w = VG_(write)(out_fd, p, left);
        if (w == -VKI_EINTR)
            continue;
        if (w <= 0) {
            failed_writes++;
            out_fd = -1; /* the recorder has gone: stop writing, let the program finish */
            break;
        }
        p += w;
        left -= w;
    }
    bufp = chunk + 1;
}

static inline void room(UWord n)
{
    if (UNLIKELY(bufp + n > BUF_END))
        flush();
}

static void ctl(UWord type, UWord nargs, const ULong *args)
{
    room(nargs + 1);
    *bufp++ = AGS_VGS_CTL(type, nargs);
    for (UWord i = 0; i < nargs; i++)
        *bufp++ = args[i];
}

static void ctl1(UWord type, ULong a)
{
    ctl(type, 1, &a);
}

static inline ULong acc_word(UWord kind, UWord size, Addr a)
{
    return AGS_VGS_ACC(kind, size, (ULong)a);
}

/* ------------------------------------------------------------------ helpers called by the code */

/* tmpl[0] = n, tmpl[1..n] = the fetch words of a run of instructions */
static VG_REGPARM(1) void h_ir(const ULong *tmpl)
{
    if (UNLIKELY(!active))
        return;
    UWord n = (UWord)tmpl[0];
    room(n);
    for (UWord i = 0; i < n; i++)
        bufp[i] = tmpl[1 + i];
    bufp += n;
}

/* a run of instructions, then one data access of the last one */
static VG_REGPARM(3) void h_ir_d(const ULong *tmpl, UWord top, Addr a)
{
    if (UNLIKELY(!active))
        return;
    UWord n = (UWord)tmpl[0];
    room(n + 1);
    for (UWord i = 0; i < n; i++)
        bufp[i] = tmpl[1 + i];
    bufp[n] = (ULong)top << 56 | ((ULong)a & AGS_VGS_ADDR_MASK);
    bufp += n + 1;
}

static VG_REGPARM(2) void h_d(UWord top, Addr a)
{
    if (UNLIKELY(!active))
        return;
    room(1);
    *bufp++ = (ULong)top << 56 | ((ULong)a & AGS_VGS_ADDR_MASK);
}

static VG_REGPARM(3) void h_big(UWord kind, Addr a, UWord size)
{
    if (UNLIKELY(!active))
        return;
    ULong args[3] = { (ULong)a, kind, size };
    ctl(AGS_VGS_BIGACC, 3, args);
}

/* ------------------------------------------------------------------ instrumentation */

enum { EV_IR, EV_DR, EV_DW, EV_DM };

typedef struct {
    Int kind;
    IRExpr *addr;
    Int size;
    IRExpr *guard; /* NULL: unconditional */
    Addr iaddr;    /* EV_IR: the instruction */
} ev_t;

#define N_EVENTS 16
static ev_t events[N_EVENTS];
static Int n_events;

static IRDirty *dirty(const HChar *name, void *fn, Int regparms, IRExpr **args)
{
    return unsafeIRDirty_0_N(regparms, name, VG_(fnptr_to_fnentry)(fn), args);
}

static void add_dirty(IRSB *sb, IRDirty *di, IRExpr *guard)
{
    if (guard)
        di->guard = guard;
    addStmtToIRSB(sb, IRStmt_Dirty(di));
}

static UWord top_byte(Int kind, Int size)
{
    UWord k = kind == EV_DR ? AGS_VGS_LOAD : kind == EV_DW ? AGS_VGS_STORE : AGS_VGS_MODIFY;
    return (UWord)size << 2 | k;
}

static void flush_events(IRSB *sb)
{
    Int i = 0;
    while (i < n_events) {
        /* a run of instruction fetches */
        Int j = i;
        while (j < n_events && events[j].kind == EV_IR)
            j++;
        ULong *tmpl = NULL;
        if (j > i) {
            tmpl = VG_(malloc)("agstrace.tmpl", (SizeT)(j - i + 1) * sizeof(ULong));
            tmpl[0] = (ULong)(j - i);
            for (Int k = i; k < j; k++) {
                Int len = events[k].size > 0 ? events[k].size : 1;
                tmpl[1 + k - i] = acc_word(AGS_VGS_FETCH, (UWord)len, events[k].iaddr);
            }
        }
        ev_t *d = j < n_events ? &events[j] : NULL;
        Bool small = d && d->size > 0 && d->size < 64;
        if (tmpl && d && small && !d->guard) {
            add_dirty(sb, dirty("h_ir_d", h_ir_d, 3,
                                mkIRExprVec_3(mkIRExpr_HWord((HWord)tmpl), mkIRExpr_HWord(top_byte(d->kind, d->size)),
                                              d->addr)), NULL);
            i = j + 1;
            continue;
        }
        if (tmpl)
            add_dirty(sb, dirty("h_ir", h_ir, 1, mkIRExprVec_1(mkIRExpr_HWord((HWord)tmpl))), NULL);
        if (d) {
            if (small)
                add_dirty(sb, dirty("h_d", h_d, 2,
                                    mkIRExprVec_2(mkIRExpr_HWord(top_byte(d->kind, d->size)), d->addr)), d->guard);
            else
                add_dirty(sb, dirty("h_big", h_big, 3,
                                    mkIRExprVec_3(mkIRExpr_HWord(d->kind == EV_DR ? AGS_VGS_LOAD
                                                                 : d->kind == EV_DW ? AGS_VGS_STORE : AGS_VGS_MODIFY),
                                                  d->addr, mkIRExpr_HWord((HWord)d->size))), d->guard);
        }
        i = j + 1;
    }
    n_events = 0;
}

static void add_event(IRSB *sb, Int kind, IRExpr *addr, Int size, IRExpr *guard, Addr iaddr)
{
    if (n_events == N_EVENTS)
        flush_events(sb);
    ev_t *e = &events[n_events++];
    e->kind = kind;
    e->addr = addr;
    e->size = size;
    e->guard = guard;
    e->iaddr = iaddr;
}

static void add_ir(IRSB *sb, Addr iaddr, Int len)
{
    add_event(sb, EV_IR, NULL, len, NULL, iaddr);
}

static void add_data(IRSB *sb, Int kind, IRExpr *addr, Int size, IRExpr *guard)
{
    tl_assert(isIRAtom(addr));
    /* a store to what the previous load of the same instruction read: one modify */
    if (kind == EV_DW && !guard && n_events > 0) {
        ev_t *p = &events[n_events - 1];
        if (p->kind == EV_DR && !p->guard && p->size == size && eqIRAtom(p->addr, addr)) {
            p->kind = EV_DM;
            return;
        }
    }
    add_event(sb, kind, addr, size, guard, 0);
}

static IRSB *ags_instrument(VgCallbackClosure *closure, IRSB *in, const VexGuestLayout *layout,
                            const VexGuestExtents *vge, const VexArchInfo *archinfo, IRType gWordTy, IRType hWordTy)
{
    (void)closure;
    (void)layout;
    (void)vge;
    (void)archinfo;
    if (gWordTy != hWordTy)
        VG_(tool_panic)("host/guest word size mismatch");
    IRSB *out = deepCopyIRSBExceptStmts(in);
    IRTypeEnv *tyenv = in->tyenv;
    Int i = 0;
    while (i < in->stmts_used && in->stmts[i]->tag != Ist_IMark) {
        addStmtToIRSB(out, in->stmts[i]);
        i++;
    }
    n_events = 0;
    for (; i < in->stmts_used; i++) {
        IRStmt *st = in->stmts[i];
        if (!st || st->tag == Ist_NoOp)
            continue;
        switch (st->tag) {
        case Ist_IMark:
            add_ir(out, (Addr)st->Ist.IMark.addr, (Int)st->Ist.IMark.len);
            break;
        case Ist_WrTmp: {
            IRExpr *data = st->Ist.WrTmp.data;
            if (data->tag == Iex_Load)
                add_data(out, EV_DR, data->Iex.Load.addr, sizeofIRType(data->Iex.Load.ty), NULL);
            break;
        }
        case Ist_Store:
            add_data(out, EV_DW, st->Ist.Store.addr, sizeofIRType(typeOfIRExpr(tyenv, st->Ist.Store.data)), NULL);
            break;
        case Ist_StoreG: {
            IRStoreG *sg = st->Ist.StoreG.details;
            add_data(out, EV_DW, sg->addr, sizeofIRType(typeOfIRExpr(tyenv, sg->data)), sg->guard);
            break;
        }
        case Ist_LoadG: {
            IRLoadG *lg = st->Ist.LoadG.details;
            IRType ty = Ity_INVALID, wide = Ity_INVALID;
            typeOfIRLoadGOp(lg->cvt, &wide, &ty);
            add_data(out, EV_DR, lg->addr, sizeofIRType(ty), lg->guard);
            break;
        }
        case Ist_Dirty: {
            IRDirty *d = st->Ist.Dirty.details;
            if (d->mFx != Ifx_None) {
                if (d->mFx == Ifx_Read || d->mFx == Ifx_Modify)
                    add_data(out, EV_DR, d->mAddr, d->mSize, NULL);
                if (d->mFx == Ifx_Write || d->mFx == Ifx_Modify)
                    add_data(out, EV_DW, d->mAddr, d->mSize, NULL);
            }
            break;
        }
        case Ist_CAS: {
            IRCAS *cas = st->Ist.CAS.details;
            Int size = sizeofIRType(typeOfIRExpr(tyenv, cas->dataLo));
            if (cas->dataHi)
                size *= 2;
            add_data(out, EV_DR, cas->addr, size, NULL);
            add_data(out, EV_DW, cas->addr, size, NULL);
            break;
        }
        case Ist_LLSC: {
            if (st->Ist.LLSC.storedata == NULL) {
                add_data(out, EV_DR, st->Ist.LLSC.addr, sizeofIRType(typeOfIRTemp(tyenv, st->Ist.LLSC.result)), NULL);
                flush_events(out);
            } else {
                add_data(out, EV_DW, st->Ist.LLSC.addr, sizeofIRType(typeOfIRExpr(tyenv, st->Ist.LLSC.storedata)),
                         NULL);
            }
            break;
        }
        case Ist_Exit:
            flush_events(out); /* what ran before a side exit is recorded before it is taken */
            break;
        default:
            break;
        }
        addStmtToIRSB(out, st);
    }
    flush_events(out);
    return out;
}

/* ------------------------------------------------------------------ threads, processes, syscalls */

static void note_thread(void)
{
    Int t = VG_(gettid)();
    if (t != last_tid) {
        last_tid = t;
        ctl1(AGS_VGS_TID, (ULong)t);
    }
}

static void ags_start_client_code(ThreadId tid, ULong blocks)
{
    (void)tid;
    (void)blocks;
    note_thread();
}

static void start_stream(UWord forked)
{
    my_pid = (UInt)VG_(getpid)();
    last_tid = -1;
    ULong args[2] = { (ULong)VG_(getppid)(), forked };
    ctl(AGS_VGS_START, 2, args);
    note_thread();
}

static void atfork_pre(ThreadId tid)
{
    (void)tid;
    flush(); /* the child must not inherit (and repeat) what the parent recorded */
}

static void atfork_child(ThreadId tid)
{
    (void)tid;
    bufp = chunk + 1;
    start_stream(1);
}

static void seg_prot(Addr a, ULong *prot)
{
    NSegment const *s = VG_(am_find_nsegment)(a);
    *prot = 0;
    if (s)
        *prot = (s->hasR ? 1u : 0u) | (s->hasW ? 2u : 0u) | (s->hasX ? 4u : 0u);
}

static void ags_pre_syscall(ThreadId tid, UInt sysno, UWord *args, UInt nargs)
{
    (void)tid;
    (void)args;
    (void)nargs;
    if (sysno == __NR_execve
#ifdef __NR_execveat
        || sysno == __NR_execveat
#endif
    )
        flush(); /* a successful exec discards this image */
}

static void ags_post_syscall(ThreadId tid, UInt sysno, UWord *args, UInt nargs, SysRes res)
{
    (void)tid;
    (void)nargs;
    if (sr_isError(res))
        return;
    ULong r = (ULong)sr_Res(res), a[4];
    switch (sysno) {
    case __NR_mmap:
        a[0] = r; a[1] = args[1]; a[2] = args[2];
        ctl(AGS_VGS_MMAP, 3, a);
        break;
    case __NR_munmap:
        a[0] = args[0]; a[1] = args[1];
        ctl(AGS_VGS_MUNMAP, 2, a);
        break;
    case __NR_mprotect:
        a[0] = args[0]; a[1] = args[1]; a[2] = args[2];
        ctl(AGS_VGS_MPROTECT, 3, a);
        break;
    case __NR_brk:
        ctl1(AGS_VGS_BRK, r);
        break;
    case __NR_mremap:
        a[0] = args[0]; a[1] = args[1]; a[2] = r; a[3] = args[2];
        ctl(AGS_VGS_MREMAP, 4, a);
        break;
    case __NR_madvise:
        if (args[2] == 4 /* MADV_DONTNEED */) {
            a[0] = args[0]; a[1] = args[1];
            seg_prot((Addr)args[0], &a[2]);
            ctl(AGS_VGS_DONTNEED, 3, a);
        }
        break;
    case __NR_clone:
        if (r != 0 && !(args[0] & VKI_CLONE_THREAD))
            { ctl1(AGS_VGS_FORK, r); flush(); /* the recorder learns of the child at once */ }
        break;
#ifdef __NR_clone3
    case __NR_clone3:
        if (r != 0 && args[0] && !(*(const ULong *)args[0] & VKI_CLONE_THREAD))
            { ctl1(AGS_VGS_FORK, r); flush(); /* the recorder learns of the child at once */ }
        break;
#endif
    case __NR_fork:
    case __NR_vfork:
        if (r != 0)
            { ctl1(AGS_VGS_FORK, r); flush(); /* the recorder learns of the child at once */ }
        break;
    default:
        break;
    }
}

static Bool ags_handle_client_request(ThreadId tid, UWord *arg, UWord *ret)
{
    (void)tid;
    if (!VG_IS_TOOL_USERREQ('A', 'G', arg[0]))
        return False;
    if (arg[0] == AGS_ROI_REQ_BEGIN || arg[0] == AGS_ROI_REQ_END) {
        Bool on = arg[0] == AGS_ROI_REQ_BEGIN;
        if (clo_roi && on != active) {
            active = on;
            ctl1(AGS_VGS_ROI, on);
        }
        *ret = 0;
        return True;
    }
    return False;
}

/* ------------------------------------------------------------------ init and fini */

static void ags_post_clo_init(void)
{
    if (!clo_out)
        VG_(fmsg_bad_option)("--agilesim-out", "agstrace writes to the FIFO agilesim record gives it\n");
    SysRes sr = VG_(open)(clo_out, VKI_O_WRONLY, 0);
    if (sr_isError(sr)) {
        VG_(fmsg)("agstrace: cannot open %s\n", clo_out);
        VG_(exit)(1);
    }
    Int fd = VG_(safe_fd)((Int)sr_Res(sr));
    if (fd < 0) {
        VG_(fmsg)("agstrace: no descriptor left for %s\n", clo_out);
        VG_(exit)(1);
    }
    out_fd = fd;
    active = !clo_roi;
    start_stream(0);
    if (clo_roi)
        ctl1(AGS_VGS_ROI, 0);
}

static void ags_fini(Int exitcode)
{
    ctl1(AGS_VGS_EXIT, (ULong)(Long)exitcode);
    flush();
    if (failed_writes && VG_(clo_verbosity) > 1)
        VG_(umsg)("agstrace: the recorder stopped reading\n");
}

static void ags_pre_clo_init(void)
{
    VG_(details_name)("agstrace");
    VG_(details_version)(NULL);
    VG_(details_description)("agilesim's trace recorder");
    VG_(details_copyright_author)("Copyright (C) the agilesim authors, GNU GPL'd.");
    VG_(details_bug_reports_to)("the agilesim issue tracker");
    VG_(details_avg_translation_sizeB)(300);
    VG_(basic_tool_funcs)(ags_post_clo_init, ags_instrument, ags_fini);
    VG_(needs_command_line_options)(ags_process_cmd_line_option, ags_print_usage, ags_print_debug_usage);
    VG_(needs_syscall_wrapper)(ags_pre_syscall, ags_post_syscall);
    VG_(needs_client_requests)(ags_handle_client_request);
    VG_(track_start_client_code)(ags_start_client_code);
    VG_(atfork)(atfork_pre, NULL, atfork_child);
}

VG_DETERMINE_INTERFACE_VERSION(ags_pre_clo_init)
