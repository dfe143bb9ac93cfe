/* schema_int: shared by the schema files (schema.c: type names, JSON paths and value
 * descriptions; schema_check.c: checking values; schema_lint.c: linting schemas); not for other
 * modules. A type set is a bit mask, one bit a type name (object, array, ... null). */
#ifndef GF_SCHEMA_INT_H
#define GF_SCHEMA_INT_H

#include "buf.h"

#include <cjson/cJSON.h>

/* The bit of type `name` (lowercase, or the uppercase OpenAPI name); 0 when unknown. */
int schema_type_bit(const char *name);
/* The types a schema allows as a bit mask; 0 when it does not say. */
int schema_types(const cJSON *s);
/* The types value `v` has (a whole number is both number and integer). */
int schema_value_types(const cJSON *v);
/* Append key `key` to a JSON path: ".name", or ["any \"key\""] when it is not an identifier. */
void schema_path_key(struct buf *path, const char *key);
/* A short description of a value for messages: "abc" (quoted), 42, true, an object. */
void schema_describe(const cJSON *v, struct buf *b);
/* The types of `mask` for messages: "a string or null", "an object, an array or null". */
void schema_describe_types(int mask, struct buf *b);

#endif
