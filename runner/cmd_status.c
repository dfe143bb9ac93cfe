/* cmd_status: `gemflow status [JOB...|--jobs DIR] [--json]`: per job and stage, what is done,
 * running, failed (with the API's own words) or waiting, what was edited or accepted, and the
 * time and tokens spent. The JSON form is documented by docs/status.schema.json. */
#include "cli.h"
#include "cost.h"
#include "fsutil.h"
#include "jobfacts.h"
#include "joblock.h"
#include "jsonutil.h"
#include "look.h"
#include "progress.h"
#include "status.h"
#include "textout.h"
#include "util.h"

#include <dirent.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define STATUS_JSON_VERSION 1

struct status_args {
    const char *jobs_dir;
    bool json;
};

/* --jobs DIR, --json */
static int status_own(void *ctx, int id, const char *arg, char *why, size_t why_len)
{
    struct status_args *a = ctx;
    if (id == OPT_JOBS)
        a->jobs_dir = arg;
    else if (id == OPT_JSON)
        a->json = true;
    else
        return -1;
    return 0;
}

static const char *stage_state(const struct look_stage *ls, const struct stage_facts *sf,
                               bool running)
{
    if (ls->state == LOOK_DONE)
        return "done";
    if (running && sf->started_last_run && !sf->ended_last_run)
        return "running";
    switch (ls->state) {
    case LOOK_ERROR: /* its upstream output cannot be used */
        return "failed";
    case LOOK_AFTER: /* an upstream stage is not done */
        return "waiting";
    default:
        return ls->n_failed_last ? "failed" : ls->n_cached ? "partial" : "pending";
    }
}

static cJSON *tokens_json(const struct stage_facts *sf)
{
    cJSON *t = cJSON_CreateObject();
    json_add_i64(t, "prompt", sf->tok_prompt);
    json_add_i64(t, "output", sf->tok_output);
    json_add_i64(t, "total", sf->tok_total);
    return t;
}

static cJSON *failure_json(const struct job *job, const struct item *it, const cJSON *ev)
{
    const cJSON *e = json_field(ev, "error");
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "item", it->id);
    const char *msg = it->input_error ? it->input_error : json_str(e, "message");
    cJSON_AddStringToObject(f, "message", msg ? msg : look_failed_last(job, it));
    json_add_str_or_null(f, "kind",
                         it->input_error ? (it->verdict == CK_EDITED ? "edited" : "input")
                                         : json_str(e, "kind"));
    double http = json_num(e, "http_status", 0);
    if (http > 0 && !it->input_error)
        cJSON_AddNumberToObject(f, "http_status", http);
    else
        cJSON_AddNullToObject(f, "http_status");
    json_add_str_or_null(f, "status", it->input_error ? NULL : json_str(e, "status"));
    json_add_str_or_null(f, "finish_reason", it->input_error ? NULL : json_str(e, "finish_reason"));
    json_add_str_or_null(f, "block_reason", it->input_error ? NULL : json_str(e, "block_reason"));
    cJSON_AddNumberToObject(f, "attempts", it->input_error ? 0 : json_num(ev, "attempts", 0));
    json_add_str_or_null(f, "ts", it->input_error ? NULL : json_str(ev, "ts"));
    return f;
}

/* The items of an expanded stage: failures, edited and accepted artifacts. */
static void stage_items_json(const struct job *job, size_t s, const struct job_facts *facts,
                             cJSON *o)
{
    const struct stage_def *def = &job->wf.stages[s];
    cJSON *fails = cJSON_AddArrayToObject(o, "failures");
    cJSON *edited = cJSON_AddArrayToObject(o, "edited_items");
    cJSON *accepted = cJSON_AddArrayToObject(o, "accepted_items");
    cJSON *rendering = cJSON_AddArrayToObject(o, "rendering_items");
    const struct stage_run *sr = &job->st[s];
    for (size_t i = 0; i < sr->n_items; i++) {
        const struct item *it = &sr->items[i];
        bool done = !it->input_error && (it->verdict == CK_DONE || it->verdict == CK_EDITED);
        if (it->verdict == CK_EDITED) { /* kept, or refused by the kind's check (a failure) */
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "item", it->id);
            cJSON_AddStringToObject(e, "path", it->out_path);
            cJSON_AddBoolToObject(e, "usable", done);
            cJSON_AddItemToArray(edited, e);
        }
        const struct ckpt_item *ci = ckpt_get(&job->ck, def->name, it->id);
        if (done && ci && ci->accepted) {
            cJSON *a = cJSON_CreateObject();
            cJSON_AddStringToObject(a, "item", it->id);
            cJSON_AddStringToObject(a, "path", it->out_path);
            json_add_str_or_null(a, "ts", ci->done_ts[0] ? ci->done_ts : NULL);
            cJSON_AddItemToArray(accepted, a);
        }
        const struct ckpt_item *op =
            done || it->input_error ? NULL : ckpt_pending_op(&job->ck, def->name, it->id, it->key);
        if (op && op->op_id) {
            /* the API accepted its work and no run has fetched it yet (operation.h) */
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "item", it->id);
            cJSON_AddStringToObject(r, "operation", op->op_id);
            cJSON_AddStringToObject(r, "since", op->op_ts);
            int64_t since = rfc3339_ms(op->op_ts);
            json_add_i64(r, "seconds", since > 0 ? (wall_ms() - since) / 1000 : 0);
            cJSON_AddItemToArray(rendering, r);
        }
        if (it->input_error || look_failed_last(job, it))
            cJSON_AddItemToArray(fails,
                                 failure_json(job, it, jobfacts_failure(facts, def->name, it->id)));
    }
}

/* [{model, served_by, items}]: done items whose reply came from another model than asked. */
static cJSON *served_by_json(const struct job *job, size_t s)
{
    const struct stage_def *def = &job->wf.stages[s];
    const struct stage_run *sr = &job->st[s];
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < sr->n_items; i++) {
        const struct item *it = &sr->items[i];
        const struct ckpt_item *ci = ckpt_get(&job->ck, def->name, it->id);
        if (!ci || !ci->served_by || it->verdict != CK_DONE)
            continue;
        const char *asked = ci->model ? ci->model : def->model;
        cJSON *hit = NULL, *x;
        cJSON_ArrayForEach(x, arr)
        {
            if (strcmp(json_str(x, "served_by"), ci->served_by) == 0 &&
                strcmp(json_str(x, "model"), asked) == 0)
                hit = x;
        }
        if (!hit) {
            hit = cJSON_CreateObject();
            cJSON_AddStringToObject(hit, "model", asked);
            cJSON_AddStringToObject(hit, "served_by", ci->served_by);
            cJSON_AddNumberToObject(hit, "items", 0);
            cJSON_AddItemToArray(arr, hit);
        }
        cJSON *n = cJSON_GetObjectItemCaseSensitive(hit, "items");
        cJSON_SetNumberValue(n, n->valuedouble + 1);
    }
    return arr;
}

/* The money a stage spent over every run: a number, or null when a price is unknown. */
static void add_cost(cJSON *o, const struct cost_ctx *cc, const struct stage_def *def, double *sum,
                     bool *known)
{
    double usd;
    const char *why = NULL;
    if (cost_stage_spent(cc, def, def->model, def->name, &usd, &why)) {
        cJSON_AddNumberToObject(o, "cost_usd", usd);
        *sum += usd;
    } else {
        cJSON_AddNullToObject(o, "cost_usd");
        *known = false;
    }
}

static cJSON *stage_json(const struct job *job, size_t s, const struct look_stage *ls,
                         const struct job_facts *facts, bool running)
{
    const struct stage_def *def = &job->wf.stages[s];
    const struct stage_facts *sf = jobfacts_stage(facts, def->name);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", def->name);
    cJSON_AddStringToObject(o, "kind", def->kind->name);
    cJSON_AddStringToObject(o, "model", def->model);
    cJSON_AddStringToObject(o, "state", stage_state(ls, sf, running));
    bool expanded = ls->state == LOOK_DONE || ls->state == LOOK_TODO;
    if (expanded)
        cJSON_AddNumberToObject(o, "items", (double)ls->n_items);
    else
        cJSON_AddNullToObject(o, "items");
    if (ls->state == LOOK_AFTER && ls->expected)
        cJSON_AddNumberToObject(o, "expected_items", (double)ls->expected);
    else
        cJSON_AddNullToObject(o, "expected_items");
    cJSON_AddNumberToObject(o, "done", (double)ls->n_cached);
    cJSON_AddNumberToObject(o, "failed", (double)ls->n_failed_last);
    cJSON_AddNumberToObject(o, "edited", (double)ls->n_edited);
    cJSON_AddNumberToObject(o, "in_flight", running ? sf->inflight : 0);
    cJSON_AddNumberToObject(o, "retries", (double)sf->retries);
    json_add_str_or_null(o, "after", ls->state == LOOK_AFTER ? ls->after : NULL);
    json_add_str_or_null(o, "error", ls->error);
    json_add_str_or_null(o, "started", sf->started[0] ? sf->started : NULL);
    json_add_str_or_null(o, "ended", sf->ended[0] ? sf->ended : NULL);
    if (sf->ms >= 0)
        json_add_i64(o, "ms", sf->ms);
    else
        cJSON_AddNullToObject(o, "ms");
    json_add_i64(o, "calls", sf->calls);
    cJSON_AddItemToObject(o, "tokens", tokens_json(sf));
    json_add_i64(o, "paid_retries", sf->paid_retries);
    stage_items_json(job, s, facts, o);
    cJSON_AddNumberToObject(o, "accepted", cJSON_GetArraySize(json_field(o, "accepted_items")));
    cJSON_AddItemToObject(o, "served_by", served_by_json(job, s));
    return o;
}

/* Why the last run stopped before any stage, or NULL: its run_end's error, a text or (gemflow
 * watch's record of a job that cannot start) {kind, message}. */
static const char *run_error(const struct job_facts *facts)
{
    const cJSON *e = facts->last_end ? json_field(facts->last_end, "error") : NULL;
    return cJSON_IsString(e) ? e->valuestring : json_str(e, "message");
}

/* running > done > failed > the last run's end (killed, interrupted) > new > pending */
static const char *job_state(long holder, const struct job_facts *facts, const cJSON *stages)
{
    if (holder && facts->quota_wait)
        return "waiting for quota";
    if (holder)
        return "running";
    bool all_done = true, any_failed = false;
    const cJSON *s;
    cJSON_ArrayForEach(s, stages)
    {
        all_done &= strcmp(json_str(s, "state"), "done") == 0;
        any_failed |= strcmp(json_str(s, "state"), "failed") == 0;
    }
    const char *last = jobfacts_last_run_state(facts);
    if (all_done)
        return "done";
    if (any_failed)
        return "failed";
    /* the run failed before any stage (gemflow watch records a job that cannot start) */
    if (last && strcmp(last, "failed") == 0 && run_error(facts))
        return "failed";
    if (last && (strcmp(last, "killed") == 0 || strcmp(last, "interrupted") == 0))
        return last;
    return last ? "pending" : "new";
}

/* The last run: "running" while the process that started it holds the job's lock (`holder`),
 * else how it ended (jobfacts_last_run_state: "killed" when it never did). */
static cJSON *last_run_json(const struct job_facts *facts, long holder)
{
    if (!facts->last_start)
        return cJSON_CreateNull();
    cJSON *r = cJSON_CreateObject();
    bool running =
        holder > 0 && !facts->last_end && (long)json_num(facts->last_start, "pid", 0) == holder;
    cJSON_AddStringToObject(r, "state", running ? "running" : jobfacts_last_run_state(facts));
    json_add_str_or_null(r, "started", json_str(facts->last_start, "ts"));
    json_add_str_or_null(r, "ended", facts->last_end ? json_str(facts->last_end, "ts") : NULL);
    if (facts->last_end)
        cJSON_AddNumberToObject(r, "ms", json_num(facts->last_end, "ms", 0));
    else
        cJSON_AddNullToObject(r, "ms");
    cJSON_AddNumberToObject(r, "pid", json_num(facts->last_start, "pid", 0));
    json_add_str_or_null(r, "error", run_error(facts));
    return r;
}

cJSON *status_job_json(struct job *job, const struct look_stage *looks,
                       const struct job_facts *facts)
{
    char host[256];
    long holder = joblock_holder(job->dir, host, sizeof host);
    cJSON *stages = cJSON_CreateArray();
    size_t total = 0, done = 0, failed = 0;
    bool total_known = true;
    struct prices pr;
    struct diag_list dl = DIAG_LIST_INIT;
    bool priced = prices_load_for_job(&pr, job->dir, NULL, &dl) == 0;
    diag_list_release(&dl);
    struct cost_ctx cc = {priced ? &pr : NULL, facts};
    double spent = 0;
    bool spent_known = true;
    for (size_t k = 0; k < job->wf.n_stages; k++) {
        size_t s = job->wf.order[k];
        cJSON *st = stage_json(job, s, &looks[s], facts, holder != 0);
        add_cost(st, &cc, &job->wf.stages[s], &spent, &spent_known);
        cJSON_AddItemToArray(stages, st);
        total += looks[s].n_items;
        done += looks[s].n_cached;
        failed += looks[s].n_failed_last;
        total_known &= looks[s].state == LOOK_DONE || looks[s].state == LOOK_TODO;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "job", job->dir);
    cJSON_AddStringToObject(j, "name", job->name);
    cJSON_AddStringToObject(j, "state", job_state(holder, facts, stages));
    if (holder > 0)
        cJSON_AddNumberToObject(j, "pid", (double)holder);
    else
        cJSON_AddNullToObject(j, "pid");
    json_add_str_or_null(j, "host", holder && host[0] ? host : NULL);
    if (holder && facts->quota_wait) {
        cJSON *w = cJSON_AddObjectToObject(j, "quota_wait");
        const char *names[] = {"stage", "model", "until", "reason"};
        for (size_t i = 0; i < ARRAY_SIZE(names); i++)
            json_add_str_or_null(w, names[i], json_str(facts->quota_wait, names[i]));
    } else {
        cJSON_AddNullToObject(j, "quota_wait");
    }
    cJSON_AddStringToObject(j, "workflow", job->wf.name ? job->wf.name : job->wf.path);
    cJSON_AddItemToObject(j, "last_run", last_run_json(facts, holder));
    int64_t last_ms;
    if (facts->last_ts[0] && tx_parse_ts(facts->last_ts, &last_ms) == 0) {
        cJSON_AddStringToObject(j, "last_activity", facts->last_ts);
        int64_t age = (tx_now_epoch_ms() - last_ms) / 1000;
        cJSON_AddNumberToObject(j, "age_s", (double)(age < 0 ? 0 : age));
    } else {
        cJSON_AddNullToObject(j, "last_activity");
        cJSON_AddNullToObject(j, "age_s");
    }
    json_add_i64(j, "runs", facts->runs);
    json_add_i64(j, "calls", facts->calls);
    json_add_i64(j, "tokens", facts->tokens);
    if (spent_known)
        cJSON_AddNumberToObject(j, "cost_usd", spent);
    else
        cJSON_AddNullToObject(j, "cost_usd");
    prices_release(&pr);
    cJSON *items = cJSON_AddObjectToObject(j, "items");
    if (total_known)
        cJSON_AddNumberToObject(items, "total", (double)total);
    else
        cJSON_AddNullToObject(items, "total");
    cJSON_AddNumberToObject(items, "done", (double)done);
    cJSON_AddNumberToObject(items, "failed", (double)failed);
    cJSON_AddItemToObject(j, "stages", stages);
    return j;
}

/* --- text output ----------------------------------------------------------------------------- */

static void print_failure(const cJSON *f, const char *indent)
{
    printf("%s%s: ", indent, json_str(f, "item"));
    if (json_num(f, "http_status", 0) > 0)
        printf("HTTP %.0f%s%s: ", json_num(f, "http_status", 0), json_str(f, "status") ? " " : "",
               json_str(f, "status") ? json_str(f, "status") : "");
    else if (json_str(f, "kind") && strcmp(json_str(f, "kind"), "http") != 0)
        printf("(%s) ", json_str(f, "kind"));
    printf("%s", json_str(f, "message"));
    if (json_str(f, "finish_reason"))
        printf(" [finish %s]", json_str(f, "finish_reason"));
    if (json_str(f, "block_reason"))
        printf(" [blocked %s]", json_str(f, "block_reason"));
    double attempts = json_num(f, "attempts", 0);
    if (attempts > 0)
        printf(" (%.0f attempt%s)", attempts, attempts == 1 ? "" : "s");
    printf("\n");
}

static void print_stage(const cJSON *s, bool color)
{
    const char *state = json_str(s, "state");
    printf("  %-12s %s%-8s%s ", json_str(s, "name"), tx_c(color, tx_state_sgr(state)), state,
           tx_c(color, TX_RESET));
    if (json_str(s, "after")) {
        printf("%7s  after %s", "-", json_str(s, "after"));
        if (json_num(s, "expected_items", 0) > 0)
            printf(" (about %.0f item%s)", json_num(s, "expected_items", 0),
                   json_num(s, "expected_items", 0) == 1 ? "" : "s");
        printf("\n");
        return;
    }
    char items[32], t[32] = "-";
    if (cJSON_IsNumber(json_field(s, "items")))
        snprintf(items, sizeof items, "%.0f/%.0f", json_num(s, "done", 0), json_num(s, "items", 0));
    else
        snprintf(items, sizeof items, "-");
    if (json_num(s, "ms", -1) >= 0 && strcmp(state, "running") != 0)
        tx_duration(t, sizeof t, (int64_t)json_num(s, "ms", 0));
    printf("%7s  %-8s %5.0f %8.0f", items, t, json_num(s, "calls", 0),
           json_num(json_field(s, "tokens"), "total", 0));
    if (json_num(s, "calls", 0) > 0) {
        if (cJSON_IsNumber(json_field(s, "cost_usd")))
            printf("  $%.4f", json_num(s, "cost_usd", 0));
        else
            printf("  cost unknown");
    }
    struct {
        const char *field, *word;
    } notes[] = {{"failed", "failed"},     {"edited", "edited"},
                 {"accepted", "accepted"}, {"in_flight", "in flight"},
                 {"retries", "retries"},   {"paid_retries", "paid retries"}};
    for (size_t i = 0; i < ARRAY_SIZE(notes); i++) {
        double v = json_num(s, notes[i].field, 0);
        if (v > 0 && (strcmp(notes[i].field, "retries") != 0 || strcmp(state, "running") == 0))
            printf("  %.0f %s", v, notes[i].word);
    }
    printf("\n");
    if (json_str(s, "error"))
        printf("      %s\n", json_str(s, "error"));
    const cJSON *x;
    cJSON_ArrayForEach(x, json_field(s, "served_by")) printf(
        "      asked %s, served by %s (%.0f item%s; the API rerouted it)\n", json_str(x, "model"),
        json_str(x, "served_by"), json_num(x, "items", 0), json_num(x, "items", 0) == 1 ? "" : "s");
    cJSON_ArrayForEach(x, json_field(s, "rendering_items"))
    {
        char age[32];
        progress_format_duration(json_num(x, "seconds", 0), age, sizeof age);
        printf("      %s: rendering, %s (operation %s)\n", json_str(x, "item"), age,
               json_str(x, "operation"));
    }
    cJSON_ArrayForEach(x, json_field(s, "failures")) print_failure(x, "      ");
    cJSON_ArrayForEach(x, json_field(s, "edited_items"))
    {
        if (cJSON_IsFalse(json_field(x, "usable")))
            printf("      %s edited by hand, not usable: the item fails until the file is fixed "
                   "or deleted\n",
                   json_str(x, "path"));
        else
            printf("      %s edited by hand (kept; gemflow rerun regenerates it)\n",
                   json_str(x, "path"));
    }
    cJSON_ArrayForEach(x, json_field(s, "accepted_items"))
        printf("      %s accepted without a call (gemflow accept)\n", json_str(x, "path"));
}

static void print_header(const cJSON *j, bool color)
{
    const char *state = json_str(j, "state");
    printf("%s%s%s: %s%s%s", tx_c(color, TX_BOLD), json_str(j, "job"), tx_c(color, TX_RESET),
           tx_c(color, tx_state_sgr(state)), state, tx_c(color, TX_RESET));
    printf(" (workflow %s", json_str(j, "workflow"));
    if (json_num(j, "pid", 0) > 0)
        printf(", pid %.0f", json_num(j, "pid", 0));
    if (json_str(j, "host"))
        printf(" on %s", json_str(j, "host"));
    const cJSON *lr = json_field(j, "last_run");
    int64_t ms;
    if (lr && tx_parse_ts(json_str(lr, "started"), &ms) == 0) {
        char when[40], dur[32];
        tx_local_time(when, sizeof when, ms, true);
        if (strcmp(json_str(lr, "state"), "running") == 0) /* its pid and host are said above */
            printf("; last run: running since %s", when);
        else
            printf("; last run: %s, started %s", json_str(lr, "state"), when);
        if (json_num(lr, "ms", -1) >= 0) {
            tx_duration(dur, sizeof dur, (int64_t)json_num(lr, "ms", 0));
            printf(", took %s", dur);
        }
    }
    if (json_num(j, "age_s", -1) >= 0) {
        char age[32];
        tx_age(age, sizeof age, (int64_t)json_num(j, "age_s", 0));
        printf("; last activity %s", age);
    }
    printf(")\n");
    const char *why = json_str(lr, "error");
    if (why) { /* one line each: the diagnostics, then the error */
        printf("  the last run stopped%s:\n",
               str_starts_with(why, "stopped before going over the budget")
                   ? ""
                   : " before paying for anything");
        for (const char *p = why; *p;) {
            size_t n = strcspn(p, "\n");
            printf("    %.*s\n", (int)n, p);
            p += n + (p[n] == '\n');
        }
    }
    const cJSON *qw = json_field(j, "quota_wait");
    if (cJSON_IsObject(qw)) {
        int64_t until;
        char when[40] = "";
        if (tx_parse_ts(json_str(qw, "until"), &until) == 0)
            tx_local_time(when, sizeof when, until, true);
        printf("  waiting for quota until %s: stage %s: %s\n", when, json_str(qw, "stage"),
               json_str(qw, "reason"));
    }
    char cost[48] = "cost unknown";
    if (cJSON_IsNumber(json_field(j, "cost_usd")))
        snprintf(cost, sizeof cost, "$%.4f", json_num(j, "cost_usd", 0));
    printf("  %.0f call%s, %.0f tokens, %s over %.0f run%s\n", json_num(j, "calls", 0),
           json_num(j, "calls", 0) == 1 ? "" : "s", json_num(j, "tokens", 0), cost,
           json_num(j, "runs", 0), json_num(j, "runs", 0) == 1 ? "" : "s");
}

static void print_detail(const cJSON *j, bool color)
{
    print_header(j, color);
    printf("  %s%-12s %-8s %7s  %-8s %5s %8s%s\n", tx_c(color, TX_DIM), "STAGE", "STATE", "ITEMS",
           "TIME", "CALLS", "TOKENS", tx_c(color, TX_RESET));
    const cJSON *s;
    cJSON_ArrayForEach(s, json_field(j, "stages")) print_stage(s, color);
}

/* One line per job for `--jobs DIR`. */
static void print_overview(const cJSON *j, bool color)
{
    const char *state = json_str(j, "state");
    const char *name = json_str(j, "name");
    if (!name) { /* an invalid job: its directory's last component */
        name = json_str(j, "job");
        size_t n = strlen(name);
        while (n > 1 && name[n - 1] == '/')
            n--;
        while (n > 0 && name[n - 1] != '/')
            n--;
        name += n;
    }
    printf("%-20s %s%-11s%s", name, tx_c(color, tx_state_sgr(state)), state, tx_c(color, TX_RESET));
    if (strcmp(state, "invalid") == 0) { /* the first line: the first diagnostic */
        const char *e = json_str(j, "error");
        printf(" %.*s\n", (int)strcspn(e, "\n"), e);
        return;
    }
    int n = 0, done = 0;
    const cJSON *s, *first_fail = NULL, *fail_stage = NULL;
    cJSON_ArrayForEach(s, json_field(j, "stages"))
    {
        n++;
        done += strcmp(json_str(s, "state"), "done") == 0;
        if (!first_fail && cJSON_GetArraySize(json_field(s, "failures")) > 0) {
            first_fail = cJSON_GetArrayItem(json_field(s, "failures"), 0);
            fail_stage = s;
        }
    }
    const cJSON *items = json_field(j, "items");
    char stages[32], its[48], age[32] = "-";
    snprintf(stages, sizeof stages, "%d/%d", done, n);
    if (cJSON_IsNumber(json_field(items, "total")))
        snprintf(its, sizeof its, "%.0f/%.0f", json_num(items, "done", 0),
                 json_num(items, "total", 0));
    else
        snprintf(its, sizeof its, "%.0f/?", json_num(items, "done", 0));
    if (json_num(j, "age_s", -1) >= 0)
        tx_age(age, sizeof age, (int64_t)json_num(j, "age_s", 0));
    printf(" %-7s %-9s %s", stages, its, age);
    const char *why = json_str(json_field(j, "last_run"), "error");
    int pad = (int)(strlen(age) < 10 ? 10 - strlen(age) : 0);
    const cJSON *qw = json_field(j, "quota_wait");
    if (json_str(j, "host")) /* which machine and process run it */
        printf("%*s on %s pid %.0f", pad, "", json_str(j, "host"), json_num(j, "pid", 0)), pad = 0;
    if (cJSON_IsObject(qw)) {
        printf("%*s until %s (%s)\n", pad, "", json_str(qw, "until"), json_str(qw, "model"));
    } else if (first_fail) {
        printf("%*s %s/", pad, "", json_str(fail_stage, "name"));
        print_failure(first_fail, "");
    } else if (why) { /* its first line: the first diagnostic, or the error itself */
        printf("%*s %.*s\n", pad, "", (int)strcspn(why, "\n"), why);
    } else {
        printf("\n");
    }
}

/* --- driver ---------------------------------------------------------------------------------- */

static int status_one(const char *dir, struct job_cli *jc, cJSON *all)
{
    struct job job;
    struct gf_err err = GF_ERR_INIT;
    int rc = cli_open_job(&job, dir, &jc->job, JOB_LOOK, &err);
    if (rc) {
        /* gemflow watch recorded why it could not start it: that says more (its diagnostics) */
        cJSON *end = jobfacts_last_run_end(dir);
        const char *why = json_str(json_field(end, "error"), "message");
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "job", dir);
        cJSON_AddStringToObject(j, "state", "invalid");
        cJSON_AddStringToObject(j, "error", why ? why : err.msg);
        cJSON_AddItemToArray(all, j);
        cJSON_Delete(end);
        return rc;
    }
    struct job_facts facts;
    if (jobfacts_load(&facts, dir, &err) < 0)
        fprintf(stderr, "gemflow: %s\n", err.msg);
    struct look_stage *looks = xcalloc(job.wf.n_stages, sizeof *looks);
    look_job(&job, looks);
    cJSON_AddItemToArray(all, status_job_json(&job, looks, &facts));
    look_release(&job, looks);
    free(looks);
    jobfacts_release(&facts);
    job_close(&job);
    return GF_EXIT_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every directory under `jobs_dir` (not dotted), sorted; returns -1 when it cannot be read. */
static int list_jobs(const char *jobs_dir, char ***names, size_t *n)
{
    DIR *d = opendir(jobs_dir);
    if (!d)
        return -1;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *p = fs_join(jobs_dir, de->d_name);
        if (fs_is_dir(p))
            *VEC_PUSH(*names, *n, cap) = p;
        else
            free(p);
    }
    closedir(d);
    if (*n)
        qsort(*names, *n, sizeof **names, by_name);
    return 0;
}

static void print_json(cJSON *all)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "version", STATUS_JSON_VERSION);
    cJSON_AddItemToObject(root, "jobs", all);
    struct buf out = BUF_INIT, safe = BUF_INIT;
    json_pretty(root, &out);
    tx_json_safe(&safe, out.data, out.len); /* the same JSON, without a raw C1 control */
    fputs(safe.data, stdout);
    buf_release(&out);
    buf_release(&safe);
    cJSON_Delete(root);
}

int cmd_status(int argc, char **argv)
{
    struct job_cli jc = {0};
    struct status_args args = {0};
    int rc = cli_parse("status", argc, argv, &jc, status_own, &args);
    if (rc) {
        job_cli_release(&jc);
        return rc;
    }
    const char *jobs_dir = args.jobs_dir;
    bool json = args.json;
    char **names = NULL;
    size_t n = 0;
    if (jobs_dir && list_jobs(jobs_dir, &names, &n) < 0) {
        job_cli_release(&jc);
        return cli_usage_error("status", "cannot open jobs directory '%s'", jobs_dir);
    }
    if (!jobs_dir && optind >= argc) {
        job_cli_release(&jc);
        return cli_usage_error("status", "no job given: gemflow status JOB... | --jobs DIR");
    }
    cJSON *all = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        status_one(names[i], &jc, all);
        free(names[i]);
    }
    free(names);
    for (int i = optind; i < argc; i++) {
        int r = status_one(argv[i], &jc, all);
        if (r != GF_EXIT_OK)
            rc = r;
    }
    if (json) {
        print_json(all);
    } else {
        bool color = tx_use_color(stdout, jc.color);
        const cJSON *j;
        tx_sanitize_json(all); /* errors and names from models, the API and job files */
        int k = 0;
        if (jobs_dir)
            printf("%s%-20s %-11s %-7s %-9s %s%s\n", tx_c(color, TX_DIM), "JOB", "STATE", "STAGES",
                   "ITEMS", "ACTIVITY", tx_c(color, TX_RESET));
        cJSON_ArrayForEach(j, all)
        {
            if (jobs_dir)
                print_overview(j, color);
            else if (strcmp(json_str(j, "state"), "invalid") != 0) {
                if (k++)
                    printf("\n");
                print_detail(j, color);
            }
        }
        cJSON_Delete(all);
    }
    job_cli_release(&jc);
    return rc;
}
