/* agilesim command line — a small JSON reader for agilesim's own reports (diff, merge, sweep).
 * Objects, arrays, strings, numbers, true/false/null; each value keeps its byte span in the text
 * so that a report's parts can be copied unchanged into a merged report. */
#ifndef AGS_CLI_JSON_H
#define AGS_CLI_JSON_H

#include <stddef.h>
#include <stdio.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } ags_jtype_t;
typedef struct ags_jval {
    ags_jtype_t t;
    double num;
    char *str;              /* J_STR: the string (UTF-8); J_NUM: its text */
    struct ags_jval *kids;  /* J_ARR, J_OBJ */
    char **keys;            /* J_OBJ */
    size_t n;
    size_t beg, end;        /* the value's bytes in the document: text + beg .. text + end */
} ags_jval_t;

typedef struct {
    ags_jval_t root;
    char *text;             /* the whole file */
    size_t len;
} ags_jdoc_t;

/* Read and parse a file. NULL, with "PATH: ..." (the byte offset of a syntax error) in err, when
 * it cannot be opened or is not JSON. Exits only when out of memory. */
ags_jdoc_t *ags_json_load(const char *path, char *err, size_t errlen);
void ags_json_free(ags_jdoc_t *d);

const ags_jval_t *ags_json_get(const ags_jval_t *o, const char *key); /* NULL: no such key */
double ags_json_num(const ags_jval_t *o, const char *key);            /* NAN: missing, not a number */
const char *ags_json_strval(const ags_jval_t *o, const char *key);    /* NULL: missing, not a string */
/* A short text for a value: a string, a number's text, true/false/null, E:W for a geometry */
void ags_json_text(const ags_jval_t *v, char *buf, size_t len);
/* Write s as a JSON string: quotes, backslashes and control bytes escaped */
void ags_json_write_str(FILE *f, const char *s);

#endif
