/* jobfacts: replaying progress.jsonl into per-run and per-stage facts for status and report. */
#include "jobfacts.h"
#include "prices.h"
#include "fsutil.h"
#include "joblog.h"
#include "jsonutil.h"
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct stage_facts no_facts = {.ms = -1};

static struct stage_facts *stage_of(struct job_facts *f, const char *name)
{
    struct stage_facts *sf = strmap_get(&f->stages, name);
    if (!sf) {
        sf = xcalloc(1, sizeof *sf);
        *sf = no_facts;
        strmap_put(&f->stages, name, sf);
    }
    return sf;
}

static void reset_run(void *val, void *ctx)
{
    struct stage_facts *sf = val;
    sf->started_last_run = sf->ended_last_run = false;
    sf->inflight = sf->retries = 0;
}

static void copy_ts(char *dst, size_t n, const cJSON *ev)
{
    const char *ts = json_str(ev, "ts");
    snprintf(dst, n, "%s", ts ? ts : "");
}

static void on_run(struct job_facts *f, const char *name, const cJSON *ev)
{
    if (strcmp(name, "run_start") == 0) {
        cJSON_Delete(f->last_start);
        cJSON_Delete(f->last_end);
        f->last_start = cJSON_Duplicate(ev, 1);
        f->last_end = NULL;
        f->runs++;
        strmap_each(&f->stages, reset_run, NULL);
        cJSON_Delete(f->quota_wait);
        f->quota_wait = NULL;
    } else if (strcmp(name, "run_end") == 0) {
        cJSON_Delete(f->last_end);
        f->last_end = cJSON_Duplicate(ev, 1);
    }
}

static void on_stage(struct job_facts *f, const char *name, const cJSON *ev, const char *stage)
{
    struct stage_facts *sf = stage_of(f, stage);
    if (strcmp(name, "stage_start") == 0) {
        copy_ts(sf->started, sizeof sf->started, ev);
        sf->started_last_run = true;
        sf->ended_last_run = false;
    } else if (strcmp(name, "stage_done") == 0 || strcmp(name, "stage_failed") == 0) {
        sf->ms = (int64_t)json_num(ev, "ms", 0);
        copy_ts(sf->ended, sizeof sf->ended, ev);
        snprintf(sf->end_event, sizeof sf->end_event, "%s", name);
        sf->ended_last_run = true;
    } else if (strcmp(name, "call_start") == 0) {
        sf->inflight++;
        if (f->quota_wait && strcmp(json_str(f->quota_wait, "stage"), stage) == 0) {
            cJSON_Delete(f->quota_wait); /* the wait is over */
            f->quota_wait = NULL;
        }
    } else if (strcmp(name, "quota_wait") == 0) {
        cJSON_Delete(f->quota_wait);
        f->quota_wait = cJSON_Duplicate(ev, 1);
    } else if (strcmp(name, "call_end") == 0) {
        if (sf->inflight > 0)
            sf->inflight--;
        sf->calls++;
        f->calls++;
        const cJSON *t = json_field(ev, "tokens");
        sf->tok_prompt += (int64_t)json_num(t, "prompt", 0);
        sf->tok_output += (int64_t)json_num(t, "output", 0);
        sf->tok_total += (int64_t)json_num(t, "total", 0);
        int tier = prices_tier_index(json_str(ev, "service_tier"));
        sf->tier_calls[tier]++;
        sf->tier_prompt[tier] += (int64_t)json_num(t, "prompt", 0);
        sf->tier_output[tier] += (int64_t)json_num(t, "output", 0);
        f->tokens += (int64_t)json_num(t, "total", 0);
    } else if (strcmp(name, "item_done") == 0) {
        sf->produced += !cJSON_IsTrue(json_field(ev, "accepted"));
    } else if (strcmp(name, "retry") == 0) {
        sf->retries++;
        sf->paid_retries += cJSON_IsTrue(json_field(ev, "paid"));
    } else if (strcmp(name, "item_failed") == 0 && json_str(ev, "item")) {
        char *k = xasprintf("%s/%s", stage, json_str(ev, "item"));
        cJSON_Delete(strmap_put(&f->failures, k, cJSON_Duplicate(ev, 1)));
        free(k);
    }
}

static int scan(void *ctx, const cJSON *ev, size_t lineno)
{
    struct job_facts *f = ctx;
    const char *name = json_str(ev, "event");
    f->events++;
    if (!f->first_ts[0])
        copy_ts(f->first_ts, sizeof f->first_ts, ev);
    copy_ts(f->last_ts, sizeof f->last_ts, ev);
    const char *stage = json_str(ev, "stage");
    if (stage)
        on_stage(f, name, ev, stage);
    else
        on_run(f, name, ev);
    return 0;
}

int jobfacts_load(struct job_facts *f, const char *job_dir, struct gf_err *err)
{
    memset(f, 0, sizeof *f);
    char *path = fs_join(job_dir, "progress.jsonl");
    int rc = joblog_replay(path, scan, f, NULL, err);
    free(path);
    if (rc < 0) {
        jobfacts_release(f);
        memset(f, 0, sizeof *f);
    }
    return rc;
}

static void free_json(void *v, void *ctx)
{
    cJSON_Delete(v);
}

static void free_plain(void *v, void *ctx)
{
    free(v);
}

void jobfacts_release(struct job_facts *f)
{
    cJSON_Delete(f->last_start);
    cJSON_Delete(f->last_end);
    cJSON_Delete(f->quota_wait);
    f->last_start = f->last_end = f->quota_wait = NULL;
    strmap_each(&f->stages, free_plain, NULL);
    strmap_release(&f->stages);
    strmap_each(&f->failures, free_json, NULL);
    strmap_release(&f->failures);
}

const struct stage_facts *jobfacts_stage(const struct job_facts *f, const char *stage)
{
    const struct stage_facts *sf = strmap_get(&f->stages, stage);
    return sf ? sf : &no_facts;
}

const cJSON *jobfacts_failure(const struct job_facts *f, const char *stage, const char *item)
{
    char *k = xasprintf("%s/%s", stage, item);
    const cJSON *ev = strmap_get(&f->failures, k);
    free(k);
    return ev;
}

const char *jobfacts_last_run_state(const struct job_facts *f)
{
    if (!f->last_start)
        return NULL;
    if (!f->last_end)
        return "killed";
    const char *s = json_str(f->last_end, "state");
    return s ? s : "killed";
}

#define LOG_TAIL_BYTES 65536

struct last_run {
    bool seen, ended;
    char state[16];
    bool keep;  /* keep the run_end event */
    cJSON *end; /* the last run_end when `keep` (owned) */
};

static int note_boundary(void *ctx, const cJSON *ev, size_t lineno)
{
    struct last_run *lr = ctx;
    const char *name = json_str(ev, "event");
    if (name && strcmp(name, "run_start") == 0) {
        lr->seen = true;
        lr->ended = false;
        cJSON_Delete(lr->end);
        lr->end = NULL;
    } else if (name && strcmp(name, "run_end") == 0) {
        lr->seen = lr->ended = true;
        const char *s = json_str(ev, "state");
        snprintf(lr->state, sizeof lr->state, "%s", s ? s : "");
        if (lr->keep) {
            cJSON_Delete(lr->end);
            lr->end = cJSON_Duplicate(ev, 1);
        }
    }
    return 0;
}

/* The last run boundary of DIR's progress log, from its tail when the tail holds one. */
static void last_run(const char *dir, struct last_run *lr)
{
    char *path = fs_join(dir, "progress.jsonl");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0) {
        off_t off = st.st_size > LOG_TAIL_BYTES ? st.st_size - LOG_TAIL_BYTES : 0;
        char *data = xmalloc(LOG_TAIL_BYTES + 1);
        ssize_t n = pread(fd, data, LOG_TAIL_BYTES, off);
        if (n > 0) {
            char *start = data;
            if (off > 0) {
                char *nl = memchr(data, '\n', (size_t)n);
                start = nl ? nl + 1 : data + n;
            }
            joblog_replay_mem(start, (size_t)(data + n - start), note_boundary, lr, NULL);
        }
        free(data);
        if (!lr->seen && off > 0)
            joblog_replay(path, note_boundary, lr, NULL, NULL);
    }
    if (fd >= 0)
        close(fd);
    free(path);
}

bool jobfacts_unfinished(const char *dir)
{
    struct last_run lr = {0};
    last_run(dir, &lr);
    return !lr.seen || !lr.ended || strcmp(lr.state, "interrupted") == 0;
}

cJSON *jobfacts_last_run_end(const char *dir)
{
    struct last_run lr = {.keep = true};
    last_run(dir, &lr);
    return lr.end;
}
