/* Private to the trace readers: the reader state shared by the per-format decoders
 * (read_agt.c, read_lackey.c, read_pinatrace.c, read_champsim.c) and the driver (reader.c). */
#ifndef AGS_READER_IMPL_H
#define AGS_READER_IMPL_H

#include "agilesim/error.h"
#include "agilesim/trace.h"
#include "trace/agt.h"
#include "trace/bsrc.h"
#include "util.h"
#include <stddef.h>
#include <stdint.h>

#define QMAX 16 /* events one input unit (a line, a record) may yield */



typedef struct {
    uint32_t pid, tid;
    char name[16];
    uint64_t a[6];
    int used;
} pending_t;

struct ags_reader {
    ags_bsrc_t b;
    ags_format_t fmt;
    int err;
    char msg[320];
    unsigned va_bits;
    /* agt */
    agt_hash_t hash;
    uint64_t hashed;        /* stream offset hashed so far */
    uint64_t records, count_hint;
    uint64_t prev_addr[2];
    uint16_t prev_size;
    uint32_t prev_icount, pid, tid;
    int ended;
    int truncated;          /* AGS_TRUNC_* from a mark record */
    /* text */
    uint64_t line;
    uint32_t lk_pid;            /* Lackey: from the "==PID==" banner */
    uint64_t salvaged;          /* lenient: forks taken from garbled lines */
    uint32_t forked[16];        /* the last children forked: a fork seen twice (its line and its
                                 * result line, after a garbled line) is one fork */
    unsigned nforked;
    uint64_t prev_ip;
    pending_t pend[8];
    pending_t cont;         /* a SYSCALL line whose result comes on a " --> " continuation line */
    int lenient;            /* skip (and count) malformed lines instead of failing */
    uint64_t skipped;
    /* queue (one input unit may yield several events) */
    ags_event_t q[QMAX];
    size_t nq, qpos;
};

/* What a unit function (one line or record -> up to QMAX queued events) returns. */
enum { AGS_UNIT_ERR = -1, AGS_UNIT_END = 0, AGS_UNIT_MORE = 1 };
typedef int (*ags_unit_fn)(ags_reader_t *r);

/* Record the reader's first error (code and a message naming the file); returns 0. */
size_t ags_rd_err(ags_reader_t *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define UERR(...) (ags_rd_err(__VA_ARGS__), AGS_UNIT_ERR)
static inline int ags_rd_canon(const ags_reader_t *r, uint64_t a) { return ags_canonical(a, r->va_bits); }
ags_event_t *ags_rd_qpush(ags_reader_t *r);
void ags_rd_qacc(ags_reader_t *r, uint32_t pid, uint64_t addr, unsigned kind, unsigned size, uint32_t icount);
size_t ags_rd_queued_next(ags_reader_t *r, ags_event_t *out, size_t n, ags_unit_fn unit);
/* The next text line without its line ending: 1, 0 at the end, -1 on error. */
int ags_rd_text_line(ags_reader_t *r, const char **s, const char **e);
const char *ags_rd_parse_hex(const char *p, const char *e, uint64_t *v);
const char *ags_rd_parse_dec(const char *p, const char *e, uint64_t *v);
const char *ags_rd_find(const char *s, const char *e, const char *needle);

/* the formats */
int ags_agt_read_header(ags_reader_t *r);
size_t ags_agt_next(ags_reader_t *r, ags_event_t *out, size_t n);
int ags_lackey_unit(ags_reader_t *r);
int ags_pinatrace_unit(ags_reader_t *r);
int ags_champsim_unit(ags_reader_t *r);

#endif
