/* manifest: `manifest.json`, the list of every artifact of a job: path, sha256, bytes, stage,
 * item, key, model, prompt, created, media facts, and whether it was edited by hand. It is
 * rewritten atomically after every item that produces an artifact; progress.jsonl stays the
 * source of truth, so a lost or damaged manifest is rebuilt. */
#ifndef GF_MANIFEST_H
#define GF_MANIFEST_H

#include "err.h"
#include "strmap.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

struct manifest {
    struct strmap by_path; /* path -> cJSON entry (owned) */
    bool dirty;
};

/* Load JOB/manifest.json; a missing or unreadable manifest gives an empty one. */
void manifest_load(struct manifest *m, const char *job_dir);
/* A new entry for one artifact (caller owns it until manifest_put). `media` and `tokens` are
 * copied; NULL leaves them out. */
cJSON *manifest_entry_new(const char *path, const char *sha256, int64_t bytes, const char *stage,
                          const char *item, const char *key, const char *model, const char *prompt,
                          const char *created, const cJSON *media, const cJSON *tokens);
/* Add or replace the entry for entry.path; takes ownership of `entry`. */
void manifest_put(struct manifest *m, cJSON *entry);
cJSON *manifest_get(const struct manifest *m, const char *path);
/* Set the entry's "edited" flag (when the entry exists). */
void manifest_set_edited(struct manifest *m, const char *path, bool edited);
/* Write JOB/manifest.json (sorted by path) when something changed. */
int manifest_write(struct manifest *m, const char *job_dir, const char *job_name,
                   const char *workflow_name, struct gf_err *err);
void manifest_release(struct manifest *m);

#endif
