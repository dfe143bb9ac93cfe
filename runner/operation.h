/* operation: the executor of long-running API work (create, poll, fetch), for the stage kinds
 * whose `exec` is EXEC_OPERATION (a video clip renders for minutes; the Interactions API's
 * `background: true`). A kind supplies the create body (stage_kind.build) and a `struct
 * stage_operation`: where to create, how to read the id from the create's answer, where to
 * poll, and what a poll's answer means.
 *
 * Life cycle of an item (operation.c; design notes, "Operations: paid once, polled after"):
 *   1. op_create {stage, item, key, attempt} is appended and fsync'd, then the create is POSTed:
 *      a counted, paid attempt (call_start), one at a time per job (a create takes a moment;
 *      the renders run in parallel), so a crash cuts off at most one answer. It is never sent
 *      again blindly: an answer that is lost (transport error, kill -9, a stop that abandons
 *      it) may hide an accepted, billed render whose id we do not know, so the item fails and
 *      says so; the next run creates it anew, a new paid attempt the log shows. 429 and 5xx
 *      answers (nothing accepted) are retried like any call.
 *   2. The moment the id is known, op_started {stage, item, key, operation} is appended and
 *      fsync'd. From then on every run, after any crash, polls that id for that key and never
 *      creates it again (checkpoint.h, ckpt_pending_op).
 *   3. Polls (GET, free, not rate-limited) back off from 2 s to 30 s; transport errors, 429 and
 *      5xx only delay the next poll. Status and the live bars show "rendering, 2m10s".
 *   4. done: the kind's artifact check (check_artifact), then the artifact written durably, then
 *      job_record_done (item_done clears the operation). failed / cancelled / expired (404),
 *      or an artifact that fails its check: op_ended, then item_failed with the API's words;
 *      the next run creates anew. Still rendering past render_max_ms: item_failed, the
 *      operation kept, so the next run polls it again. */
#ifndef GF_OPERATION_H
#define GF_OPERATION_H

#include "err.h"
#include "../stages/stage.h"

#include <cjson/cJSON.h>

/* What a poll's answer says. */
enum op_state {
    OP_RUNNING, /* not done yet: poll again */
    OP_DONE,    /* done: out holds the artifact's bytes (out.data) */
    OP_FAILED,  /* ended without an artifact (failed, cancelled): message says why */
};

struct op_poll_result {
    enum op_state state;
    struct stage_output out; /* OP_DONE: data (owned) and media facts */
    cJSON *usage;            /* OP_DONE: {prompt, output, total} tokens, or NULL (owned) */
    char status[32];         /* the API's status word: "in_progress", "failed", ... */
    char message[1024];      /* OP_FAILED: the API's own words */
};

struct stage_operation {
    const char *create_path; /* under the API root: "interactions" (POST) */
    /* The id in a create's 200 answer; NULL with why (caller frees) when there is none. */
    char *(*created)(const cJSON *reply, char **why);
    /* The poll path of `id` under the API root ("interactions/ID"; caller frees). */
    char *(*poll_path)(const char *id);
    /* A poll's 200 answer into `res` (its out.data may be moved from the reply's base64: the
     * reply is the callee's to change). -1 with res->message when the answer cannot be read
     * (treated as a transient problem: polled again). Runs on a worker thread. */
    int (*interpret)(const struct stage_def *def, cJSON *reply, struct op_poll_result *res);
    /* How long the work may run before an item gives up in this run (ms). */
    int64_t render_max_ms;
};

void op_poll_result_release(struct op_poll_result *r);

#endif
