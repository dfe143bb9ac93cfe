/* schema: the JSON Schema subset gemflow sends as responseJsonSchema and checks replies against:
 * type (object, array, string, number, integer, boolean, null, or a list of them; uppercase
 * OpenAPI names STRING/OBJECT/... accepted too), properties, required, items, enum,
 * minItems/maxItems, minLength/maxLength, minimum/maximum, additionalProperties (false or a
 * schema), anyOf, nullable, pattern (a POSIX extended regular expression: the simple
 * ECMA-262 patterns schemas use, like ^[a-z0-9]+(-[a-z0-9]+)*$, read the same). Other keywords
 * (description, title, format, propertyOrdering, $id ...) are accepted and ignored when checking.
 */
#ifndef GF_SCHEMA_H
#define GF_SCHEMA_H

#include "buf.h"
#include "err.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

/* Check `value` against `schema`. On the first mismatch fill `err` (GF_ERR_INPUT) with the JSON
 * path of the offending value and what was expected, e.g.
 *   "$.scenes[2].mood: expected one of \"calm\", \"tense\", got \"angry\""
 *   "$.scenes[0]: missing required property \"narration\""
 *   "$.scenes: expected at least 1 item, got 0"
 * and return -1. */
int schema_check(const cJSON *schema, const cJSON *value, struct gf_err *err);

/* The size a schema from a workflow may have (the same as a workflow document's, ydoc.h), so
 * that linting it and checking replies against it take time in proportion to their sizes. */
#define SCHEMA_MAX_DEPTH   64    /* nested objects and lists */
#define SCHEMA_MAX_MEMBERS 1000  /* members of one object or list (properties, enum, ...) */
#define SCHEMA_MAX_NODES   20000 /* values in all */
#define SCHEMA_MAX_PATTERN 256   /* characters of one `pattern` */

/* 0 when `schema` keeps the limits above; else -1 with the first crossed in `why`:
 * "more than 1000 members in one list (at $.properties.mood.enum)". */
int schema_check_size(const cJSON *schema, struct buf *why);

/* Check that `schema` itself is usable: an object, known type names, `properties` an object of
 * schemas, `required` an array of strings, `items` a schema, `enum` an array, numeric min/max.
 * Appends one message per problem to `problems` (each "at $.properties.x: ...\n") and returns
 * the number of problems. */
int schema_lint(const cJSON *schema, struct buf *problems);

/* The sub-schema a template path selects: segs ["scenes", "0", "title"] walks properties and
 * items (a numeric segment selects `items`). Returns the sub-schema, or NULL when the schema
 * says the path cannot exist (no such property in a `properties` list with
 * additionalProperties false or with the property simply absent). When the schema does not
 * constrain the path (no `properties` / no `items`), returns `schema_any()`. */
const cJSON *schema_at_path(const cJSON *schema, char *const *segs, size_t n_segs);
/* A shared empty schema meaning "anything"; never free it. */
const cJSON *schema_any(void);
/* True when the schema says the value is an array (type "array"/"ARRAY"). */
bool schema_is_array(const cJSON *schema);

#endif
