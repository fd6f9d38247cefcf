/* Minimal test harness: CHECK_* record failures; TEST_END prints "N passed, N failed". */
#ifndef AGS_TEST_CHECK_H
#define AGS_TEST_CHECK_H
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int t_pass, t_fail;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (cond) t_pass++;                                                         \
        else { t_fail++; fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } \
    } while (0)

#define CHECK_EQ(a, b)                                                              \
    do {                                                                            \
        unsigned long long _a = (unsigned long long)(a), _b = (unsigned long long)(b); \
        if (_a == _b) t_pass++;                                                     \
        else { t_fail++; fprintf(stderr, "%s:%d: %s = %llu, expected %s = %llu\n", __FILE__, __LINE__, #a, _a, #b, _b); } \
    } while (0)

#define TEST_END()                                                                  \
    do {                                                                            \
        printf("%d passed, %d failed\n", t_pass, t_fail);                           \
        return t_fail ? 1 : 0;                                                      \
    } while (0)

#endif
