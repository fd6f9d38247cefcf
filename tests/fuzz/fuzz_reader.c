/* libFuzzer target for one trace reader (AGS_FUZZ_FORMAT: 1 agt, 2 lackey, 3 pinatrace,
 * 4 champsim, 0 auto-detect). The input is written to a memory file and read to the end; any
 * crash, leak or sanitizer report is a finding. Every error must come with a message. */
#include "agilesim/trace.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef AGS_FUZZ_FORMAT
#define AGS_FUZZ_FORMAT 0
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz", 0);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    lseek(fd, 0, SEEK_SET);
    char path[64], err[512];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ags_reader_t *r;
    if (ags_reader_open(path, (ags_format_t)AGS_FUZZ_FORMAT, &r, err, sizeof(err)) == 0) {
        static ags_event_t buf[1024];
        while (ags_reader_next(r, buf, 1024) > 0) {
            for (size_t i = 0; i < 1024; i++)
                if (buf[i].type >= AGS_EV_TYPE_COUNT)
                    abort(); /* a reader must never hand out an invalid event */
        }
        const char *msg;
        if (ags_reader_error(r, &msg) && !msg[0])
            abort(); /* errors always carry a message */
        ags_reader_close(r);
    } else if (!err[0]) {
        abort();
    }
    close(fd);
    return 0;
}
