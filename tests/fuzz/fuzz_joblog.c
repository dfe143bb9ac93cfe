/* fuzz_joblog: replaying a progress log from arbitrary bytes (joblog_replay_mem) into the
 * checkpoint (ckpt_apply), then judging every item it learnt against a job directory that does
 * not exist. Invariants: outputs recorded are safe relative paths, and nothing outside the job
 * directory is ever looked at. */
#include "fuzz.h"
#include "checkpoint.h"
#include "fsutil.h"
#include "joblog.h"

#include <string.h>

#define NO_DIR "/nonexistent-gemflow-fuzz-job"

static size_t events_seen;

static int feed(void *ctx, const cJSON *ev, size_t lineno)
{
    FUZZ_CHECK(cJSON_IsObject(ev));
    FUZZ_CHECK(lineno > 0);
    ckpt_apply(ctx, ev);
    events_seen++;
    return 0;
}

static void judge_one(void *val, void *ctx)
{
    const struct ckpt *ck = ctx;
    const struct ckpt_item *it = val;
    FUZZ_CHECK(it->stage && it->item);
    for (size_t i = 0; i < it->n_outs; i++) {
        FUZZ_CHECK(fs_rel_is_safe(it->outs[i].path));
        FUZZ_CHECK(it->outs[i].bytes >= 0);
        FUZZ_CHECK(strlen(it->outs[i].sha256) == SHA256_HEX_LEN);
    }
    FUZZ_CHECK(ckpt_get(ck, it->stage, it->item) == it);
    const char *edited = NULL;
    enum ckpt_verdict v = ckpt_judge(ck, NO_DIR, it->stage, it->item, it->key, &edited);
    if (!it->key[0])
        FUZZ_CHECK(v == CK_NEW);
    else if (it->n_outs > 0)
        FUZZ_CHECK(v == CK_MISSING);
    FUZZ_CHECK(edited == NULL);
    (void)ckpt_verdict_name(v);
    if (it->n_outs) {
        cJSON *outs = ckpt_outputs_json(it->outs, it->n_outs);
        FUZZ_CHECK(cJSON_GetArraySize(outs) == (int)it->n_outs);
        cJSON_Delete(outs);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *log = fuzz_copy(data, size);
    struct ckpt ck;
    memset(&ck, 0, sizeof ck);
    struct joblog_stats st;
    events_seen = 0;
    FUZZ_CHECK(joblog_replay_mem(log, size, feed, &ck, &st) == 0);
    FUZZ_CHECK(events_seen + st.bad_lines == st.lines);
    FUZZ_CHECK(!st.torn || (size > 0 && data[size - 1] != '\n'));
    strmap_each(&ck.items, judge_one, &ck);
    ckpt_release(&ck);
    free(log);
    return 0;
}
