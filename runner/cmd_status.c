/* cmd_status: `gemflow status [JOB...|--jobs DIR] [--json]`: per job and stage, what is done,
 * what failed and why (the API's own words), what was edited. */
#include "cli.h"
#include "fsutil.h"
#include "joblock.h"
#include "jsonutil.h"
#include "look.h"
#include "strmap.h"
#include "util.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const struct option status_options[] = {
    {"jobs", required_argument, NULL, 'J'},
    {"json", no_argument, NULL, OPT_JSON},
    {"set", required_argument, NULL, OPT_SET},
    {"workflow", required_argument, NULL, OPT_WORKFLOW},
    {NULL, 0, NULL, 0},
};

/* What the log says about the last run and the latest failure of each item. */
struct log_facts {
    cJSON *last_start, *last_end; /* owned copies */
    struct strmap failures;       /* "stage/item" -> cJSON error (owned) */
    int64_t calls, tokens;
};

static int scan_event(void *ctx, const cJSON *ev, size_t lineno)
{
    struct log_facts *lf = ctx;
    const char *name = json_str(ev, "event");
    if (strcmp(name, "run_start") == 0) {
        cJSON_Delete(lf->last_start);
        cJSON_Delete(lf->last_end);
        lf->last_start = cJSON_Duplicate(ev, 1);
        lf->last_end = NULL;
    } else if (strcmp(name, "run_end") == 0) {
        cJSON_Delete(lf->last_end);
        lf->last_end = cJSON_Duplicate(ev, 1);
        lf->calls += (int64_t)json_num(ev, "calls", 0);
        lf->tokens += (int64_t)json_num(ev, "tokens", 0);
    } else if (strcmp(name, "item_failed") == 0 && json_str(ev, "stage") && json_str(ev, "item")) {
        char *k = xasprintf("%s/%s", json_str(ev, "stage"), json_str(ev, "item"));
        cJSON *e = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(ev, "error"), 1);
        cJSON_Delete(strmap_put(&lf->failures, k, e));
        free(k);
    }
    return 0;
}

static void free_json(void *v, void *ctx)
{
    cJSON_Delete(v);
}

static const char *stage_state_name(const struct look_stage *ls)
{
    switch (ls->state) {
    case LOOK_DONE:
        return "done";
    case LOOK_TODO:
        return ls->n_failed_last ? "failed" : ls->n_cached ? "partial" : "pending";
    case LOOK_AFTER:
        return "waiting";
    case LOOK_ERROR:
        return "failed";
    }
    return "?";
}

static cJSON *job_status(struct job *job, struct look_stage *looks, struct log_facts *lf)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "job", job->dir);
    cJSON_AddStringToObject(j, "name", job->name);
    long holder = joblock_holder(job->dir);
    const char *state = "new";
    if (holder)
        state = "running";
    else if (lf->last_end)
        state = json_str(lf->last_end, "state");
    else if (lf->last_start)
        state = "interrupted"; /* started, never ended: killed */
    bool all_done = true, any_failed = false;
    for (size_t s = 0; s < job->wf.n_stages; s++) {
        all_done &= looks[s].state == LOOK_DONE;
        any_failed |= strcmp(stage_state_name(&looks[s]), "failed") == 0;
    }
    if (!holder && all_done)
        state = "done";
    else if (!holder && strcmp(state, "done") == 0)
        state = any_failed ? "failed" : "pending"; /* something changed since */
    cJSON_AddStringToObject(j, "state", state);
    if (holder)
        cJSON_AddNumberToObject(j, "pid", (double)holder);
    else
        cJSON_AddNullToObject(j, "pid");
    cJSON_AddStringToObject(j, "workflow", job->wf.name ? job->wf.name : job->wf.path);
    json_add_str_or_null(j, "last_run_started",
                         lf->last_start ? json_str(lf->last_start, "ts") : NULL);
    json_add_str_or_null(j, "last_run_ended", lf->last_end ? json_str(lf->last_end, "ts") : NULL);
    json_add_i64(j, "calls", lf->calls);
    json_add_i64(j, "tokens", lf->tokens);
    cJSON *stages = cJSON_AddArrayToObject(j, "stages");
    for (size_t k = 0; k < job->wf.n_stages; k++) {
        size_t s = job->wf.order[k];
        const struct look_stage *ls = &looks[s];
        const struct stage_def *def = &job->wf.stages[s];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", def->name);
        cJSON_AddStringToObject(o, "kind", stage_kind_name(def->kind));
        cJSON_AddStringToObject(o, "model", def->model);
        cJSON_AddStringToObject(o, "state", stage_state_name(ls));
        cJSON_AddNumberToObject(o, "items", (double)ls->n_items);
        cJSON_AddNumberToObject(o, "done", (double)ls->n_cached);
        cJSON_AddNumberToObject(o, "failed", (double)ls->n_failed_last);
        cJSON_AddNumberToObject(o, "edited", (double)ls->n_edited);
        json_add_str_or_null(o, "after", ls->state == LOOK_AFTER ? ls->after : NULL);
        json_add_str_or_null(o, "error", ls->error);
        cJSON *fails = cJSON_AddArrayToObject(o, "failures");
        cJSON *edited = cJSON_AddArrayToObject(o, "edited_items");
        const struct stage_run *sr = &job->st[s];
        for (size_t i = 0; i < sr->n_items; i++) {
            const struct item *it = &sr->items[i];
            if (it->verdict == CK_EDITED && !it->input_error)
                cJSON_AddItemToArray(edited, cJSON_CreateString(it->out_path));
            if (!it->input_error && !look_failed_last(job, it))
                continue;
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "item", it->id);
            char *key = xasprintf("%s/%s", def->name, it->id);
            const cJSON *e = strmap_get(&lf->failures, key);
            free(key);
            cJSON_AddNumberToObject(f, "http_status", json_num(e, "http_status", 0));
            json_add_str_or_null(f, "status", json_str(e, "status"));
            cJSON_AddStringToObject(f, "message",
                                    it->input_error
                                        ? it->input_error
                                        : (json_str(e, "message") ? json_str(e, "message")
                                                                  : look_failed_last(job, it)));
            cJSON_AddItemToArray(fails, f);
        }
        cJSON_AddItemToArray(stages, o);
    }
    return j;
}

static void print_text(const cJSON *j)
{
    printf("%s: %s", json_str(j, "job"), json_str(j, "state"));
    if (json_num(j, "pid", 0) > 0)
        printf(" (pid %.0f)", json_num(j, "pid", 0));
    if (json_str(j, "last_run_ended"))
        printf(", last run ended %s", json_str(j, "last_run_ended"));
    printf("\n");
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(j, "stages"))
    {
        printf("  %-12s %-8s", json_str(s, "name"), json_str(s, "state"));
        if (json_str(s, "after")) {
            printf(" after %s\n", json_str(s, "after"));
            continue;
        }
        if (json_str(s, "error")) {
            printf(" %s\n", json_str(s, "error"));
            continue;
        }
        printf(" %3.0f/%-3.0f", json_num(s, "done", 0), json_num(s, "items", 0));
        if (json_num(s, "failed", 0) > 0)
            printf(" %.0f failed", json_num(s, "failed", 0));
        if (json_num(s, "edited", 0) > 0)
            printf(" %.0f edited", json_num(s, "edited", 0));
        printf("\n");
        const cJSON *f;
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(s, "failures"))
        {
            printf("      %s: ", json_str(f, "item"));
            if (json_num(f, "http_status", 0) > 0)
                printf("HTTP %.0f %s: ", json_num(f, "http_status", 0),
                       json_str(f, "status") ? json_str(f, "status") : "");
            printf("%s\n", json_str(f, "message"));
        }
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(s, "edited_items"))
            printf("      %s edited by hand\n", e->valuestring);
    }
}

static int status_one(const char *dir, struct job_cli *jc, cJSON *all, bool json)
{
    struct job job;
    struct diag_list dl = DIAG_LIST_INIT;
    struct gf_err err = GF_ERR_INIT;
    if (job_open(&job, dir, &jc->job, JOB_LOOK, &dl, &err) < 0) {
        int rc = cli_report_open_error(&dl, &err);
        diag_list_release(&dl);
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "job", dir);
        cJSON_AddStringToObject(j, "state", "invalid");
        cJSON_AddStringToObject(j, "error", err.msg);
        cJSON_AddItemToArray(all, j);
        if (!json)
            printf("%s: invalid: %s\n", dir, err.msg);
        return rc;
    }
    diag_list_release(&dl);
    struct log_facts lf = {0};
    char *log = fs_join(dir, "progress.jsonl");
    joblog_replay(log, scan_event, &lf, NULL, NULL);
    free(log);
    struct look_stage *looks = xcalloc(job.wf.n_stages, sizeof *looks);
    look_job(&job, looks);
    cJSON *j = job_status(&job, looks, &lf);
    if (!json)
        print_text(j);
    cJSON_AddItemToArray(all, j);
    look_release(&job, looks);
    free(looks);
    cJSON_Delete(lf.last_start);
    cJSON_Delete(lf.last_end);
    strmap_each(&lf.failures, free_json, NULL);
    strmap_release(&lf.failures);
    job_close(&job);
    return GF_EXIT_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cmd_status(int argc, char **argv)
{
    struct job_cli jc = {0};
    const char *jobs_dir = NULL;
    bool json = false;
    optind = 1;
    opterr = 0;
    int opt, rc = GF_EXIT_OK;
    while ((opt = getopt_long(argc, argv, "", status_options, NULL)) != -1) {
        if (opt == 'J')
            jobs_dir = optarg;
        else if (opt == OPT_JSON)
            json = true;
        else if (opt == '?' || job_cli_option(&jc, opt, optarg) != 1) {
            job_cli_release(&jc);
            return cli_usage_error("status", "bad option '%s'", argv[optind - 1]);
        }
    }
    cJSON *all = cJSON_CreateArray();
    if (jobs_dir) {
        DIR *d = opendir(jobs_dir);
        if (!d) {
            job_cli_release(&jc);
            cJSON_Delete(all);
            return cli_usage_error("status", "cannot open jobs directory '%s'", jobs_dir);
        }
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            char *p = fs_join(jobs_dir, de->d_name);
            if (fs_is_dir(p))
                *VEC_PUSH(names, n, cap) = p;
            else
                free(p);
        }
        closedir(d);
        qsort(names, n, sizeof *names, by_name);
        for (size_t i = 0; i < n; i++) {
            status_one(names[i], &jc, all, json);
            free(names[i]);
        }
        free(names);
    } else if (optind >= argc) {
        cJSON_Delete(all);
        job_cli_release(&jc);
        return cli_usage_error("status", "no job given: gemflow status JOB... | --jobs DIR");
    }
    for (int i = optind; i < argc; i++) {
        int r = status_one(argv[i], &jc, all, json);
        if (r != GF_EXIT_OK)
            rc = r;
    }
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddNumberToObject(root, "version", 1);
        cJSON_AddItemToObject(root, "jobs", all);
        struct buf out = BUF_INIT;
        json_pretty(root, &out);
        fputs(out.data, stdout);
        buf_release(&out);
        cJSON_Delete(root);
    } else {
        cJSON_Delete(all);
    }
    job_cli_release(&jc);
    return rc;
}
