/* jsonutil: small helpers over cJSON used across modules. */
#ifndef GF_JSONUTIL_H
#define GF_JSONUTIL_H

#include "buf.h"

#include <cjson/cJSON.h>
#include <stdint.h>

/* Pretty-print with two-space indentation and a final newline (for files people edit). */
void json_pretty(const cJSON *v, struct buf *out);
/* Borrowed member of an object, treating JSON null like an absent member; NULL when obj is not
 * an object. */
const cJSON *json_field(const cJSON *obj, const char *name);
/* Borrowed string member, or NULL when absent or not a string. */
const char *json_str(const cJSON *obj, const char *name);
/* Number member, or `def` when absent or not a number. */
double json_num(const cJSON *obj, const char *name, double def);
/* Add an int64 as a JSON number (exact up to 2^53). */
cJSON *json_add_i64(cJSON *obj, const char *name, int64_t v);
/* Add a string, or null when s is NULL. */
cJSON *json_add_str_or_null(cJSON *obj, const char *name, const char *s);
/* The 1-based line and column of `at` in text[0..len) (where a parse stopped; the start when
 * `at` is NULL or outside the text), for "file:line:col" messages. */
void json_text_place(const char *text, size_t len, const char *at, int *line, int *col);

#endif
