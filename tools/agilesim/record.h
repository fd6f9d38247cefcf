/* agilesim record (tools/agilesim/record.c). */
#ifndef AGS_CLI_RECORD_H
#define AGS_CLI_RECORD_H
#include <signal.h>
/* Returns the process exit status: 0, 1 (failure), 2 (bad output path), 130 (interrupted). */
int ags_cli_record(const char *output, int zstd, int quiet, char **cmd, volatile sig_atomic_t *stop);
#endif
