/* agilesim — the event stream: accesses and address-space / process events. */
#ifndef AGILESIM_EVENT_H
#define AGILESIM_EVENT_H

#include <stdint.h>

typedef enum {
    AGS_EV_ACCESS = 0,  /* addr, kind, size */
    AGS_EV_MMAP,        /* addr = start, len, arg = prot */
    AGS_EV_MUNMAP,      /* addr, len */
    AGS_EV_MPROTECT,    /* addr, len, arg = prot */
    AGS_EV_BRK,         /* addr = new program break */
    AGS_EV_MREMAP,      /* addr = old, len = old len, arg = new addr, arg2 = new len */
    AGS_EV_FORK,        /* pid = parent, arg = child pid */
    AGS_EV_EXEC,        /* pid: address space replaced */
    AGS_EV_EXIT,        /* pid */
    AGS_EV_SWITCH,      /* pid becomes the running process */
    AGS_EV_TYPE_COUNT
} ags_ev_type_t;

typedef enum {
    AGS_ACC_IFETCH = 0,
    AGS_ACC_LOAD = 1,
    AGS_ACC_STORE = 2,
    AGS_ACC_MODIFY = 3  /* load then store to the same address */
} ags_acc_kind_t;

#define AGS_PROT_R 1u
#define AGS_PROT_W 2u
#define AGS_PROT_X 4u

typedef struct {
    uint8_t type;       /* ags_ev_type_t */
    uint8_t kind;       /* ags_acc_kind_t for accesses */
    uint16_t size;      /* access size in bytes */
    uint32_t pid;
    uint32_t icount;    /* guest instructions retired with/before this event */
    uint32_t tid;       /* accesses: the thread (kernel tid; 0 = not recorded) */
    uint64_t addr;
    uint64_t len;
    uint64_t arg;
    uint64_t arg2;
} ags_event_t;

const char *ags_event_type_name(unsigned type);

#endif
