/* checkpoint: what is already paid for. Built by replaying progress.jsonl (see DESIGN, "The
 * checkpoint rule"): an item is done when its latest item_done carries today's key and its
 * outputs exist. An output whose bytes differ from the recorded sha256 was edited by hand
 * (CK_EDITED): it is kept, counts as done, and is used downstream, once the stage kind's
 * artifact check accepts it (expand.c; refused, the item fails and the file stays).
 *
 * Cheap re-checks: an output whose size and mtime equal the recorded ones is taken as
 * unchanged without hashing it; otherwise it is hashed and compared. */
#ifndef GF_CHECKPOINT_H
#define GF_CHECKPOINT_H

#include "err.h"
#include "joblog.h"
#include "sha256.h"
#include "strmap.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

struct ckpt_output {
    char *path; /* relative to the job directory */
    int64_t bytes;
    int64_t mtime_ns;
    char sha256[SHA256_HEX_LEN + 1];
};

struct ckpt_item {
    char *stage, *item;
    char key[SHA256_HEX_LEN + 1]; /* key of the latest item_done; "" when none */
    struct ckpt_output *outs;
    size_t n_outs;
    bool accepted;    /* done by `gemflow accept`, not by a call */
    char done_ts[40]; /* when the latest item_done was written */
    char *model;      /* the model of the latest item_done, NULL if not recorded */
    char *served_by;  /* the model that answered instead (a reroute), NULL when it was `model` */
    cJSON *media;     /* its media facts ({"type": "image/png", "width": ...}), NULL if none */
    /* The latest item_failed after the latest item_done (for plan and status). */
    char failed_key[SHA256_HEX_LEN + 1];
    char *fail_message; /* NULL when the item did not fail since */
    /* Long-running work (operation.h) the API may be doing for this item: the latest op_create
     * or op_started not followed by an op_ended or item_done. op_key is "" when there is none;
     * op_id is NULL when a create was sent but its answer never recorded (lost). */
    char op_key[SHA256_HEX_LEN + 1];
    char *op_id;
    char op_ts[40]; /* when it was accepted (op_started) or sent (op_create) */
    /* The latest create for this item whose answer was lost (op_ended "lost"): the API may be
     * rendering and billing it under an id gemflow never learned. "" when there is none, or
     * since an item_done, a new op_create, or a stage_reset / item_reset (gemflow rerun). */
    char lost_key[SHA256_HEX_LEN + 1];
    char lost_ts[40]; /* when that create was sent */
};

struct ckpt {
    struct strmap items; /* "stage/item" -> struct ckpt_item */
    struct joblog_stats stats;
};

enum ckpt_verdict {
    CK_NEW,     /* never done */
    CK_CHANGED, /* done, but for another request: the key differs */
    CK_MISSING, /* done for this key, but an output is gone */
    CK_DONE,    /* done for this key, outputs as recorded */
    CK_EDITED,  /* done for this key, an output was edited by hand (kept if the kind's check
                   accepts it, else item->input_error says why) */
};

int ckpt_load(struct ckpt *ck, const char *job_dir, struct gf_err *err);
/* Feed one event (used by ckpt_load, the fuzzer and tests). */
void ckpt_apply(struct ckpt *ck, const cJSON *ev);
void ckpt_release(struct ckpt *ck);

struct ckpt_item *ckpt_get(const struct ckpt *ck, const char *stage, const char *item);
/* Record a new item_done in memory (after it was appended to the log). */
void ckpt_set_done(struct ckpt *ck, const char *stage, const char *item, const char *key,
                   const struct ckpt_output *outs, size_t n_outs, const char *model,
                   const cJSON *media);
/* The model that answered a done item when it was not the one asked (after ckpt_set_done). */
void ckpt_set_served_by(struct ckpt *ck, const char *stage, const char *item,
                        const char *served_by);
/* The operation of an item that is still the API's for request `key`, or NULL. */
const struct ckpt_item *ckpt_pending_op(const struct ckpt *ck, const char *stage, const char *item,
                                        const char *key);
/* The item's lost create (see lost_key) when it was for request `key`, else NULL. */
const struct ckpt_item *ckpt_lost_op(const struct ckpt *ck, const char *stage, const char *item,
                                     const char *key);
/* Judge an item against today's key. `edited_path`, when not NULL, receives the first edited
 * output's path (borrowed). */
enum ckpt_verdict ckpt_judge(const struct ckpt *ck, const char *job_dir, const char *stage,
                             const char *item, const char *key, const char **edited_path);
const char *ckpt_verdict_name(enum ckpt_verdict v);

/* The outputs array of an item_done event, as written to the log. */
cJSON *ckpt_outputs_json(const struct ckpt_output *outs, size_t n_outs);

#endif
