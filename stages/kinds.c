/* kinds: the registered stage kinds. A new kind is a module in stages/ and one line here. */
#include "stage.h"

#include <string.h>

extern const struct stage_kind stage_kind_json, stage_kind_text, stage_kind_image,
    stage_kind_speech, stage_kind_video;

const struct stage_kind *const stage_kinds[] = {
    &stage_kind_json,   &stage_kind_text,  &stage_kind_image,
    &stage_kind_speech, &stage_kind_video, NULL,
};

const struct stage_kind *stage_kind_find(const char *name)
{
    for (const struct stage_kind *const *k = stage_kinds; *k; k++)
        if (strcmp((*k)->name, name) == 0)
            return *k;
    return NULL;
}

void stage_kind_list(struct buf *b)
{
    for (const struct stage_kind *const *k = stage_kinds; *k; k++)
        buf_addf(b, "%s%s", k == stage_kinds ? "" : ", ", (*k)->name);
}
