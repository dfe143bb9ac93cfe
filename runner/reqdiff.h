/* reqdiff: where two request bodies differ, field by field: the JSON paths with both values,
 * short, for `gemflow plan`'s "request changed" of any stage kind. */
#ifndef GF_REQDIFF_H
#define GF_REQDIFF_H

#include "buf.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* The longest value shown, in bytes, before it is cut with "...". */
#define REQDIFF_VALUE_MAX 32

/* Append "PATH (OLD -> NEW)" to `out` for each place where `old` and `now` differ (a member of
 * one that the other lacks reads "unset"), the first `max_shown` of them separated by ", ", in
 * the order of `old`'s members, then the members only `now` has. Paths read like
 * `response_format.duration` and `input[1].text`. Values are cut to REQDIFF_VALUE_MAX bytes; a
 * reference placeholder (refs.h) reads "reference PATH", a long base64 string "<N characters of
 * base64>", an object "{...}", an array "[N items]": media is never printed. Returns how many
 * places differ in all (0 when the two are equal). */
size_t reqdiff_describe(const cJSON *old, const cJSON *now, size_t max_shown, struct buf *out);

#endif
