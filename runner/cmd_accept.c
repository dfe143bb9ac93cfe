/* cmd_accept: `gemflow accept JOB STAGE [ITEM...]`: adopt the artifacts on disk as done for
 * today's request (like `dvc commit`), under the job lock; every artifact is checked (exists,
 * usable) before anything is written, then one `item_done` with `"accepted": true` per item. */
#include "cli.h"
#include "fsutil.h"
#include "jsonutil.h"
#include "look.h"
#include "util.h"

#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* One item to adopt: its output's facts, checked. */
struct adopt {
    struct item *it;
    struct ckpt_output out;
    cJSON *media;
};

/* Check one item; 1 = to adopt, 0 = already done, -1 = refused (printed). */
static int prepare(struct job *job, struct item *it, struct adopt *a)
{
    const struct stage_def *def = &job->wf.stages[it->stage];
    if (it->input_error) {
        fprintf(stderr, "gemflow: cannot accept '%s/%s': %s\n", def->name, it->id, it->input_error);
        return -1;
    }
    if (it->verdict == CK_DONE)
        return 0;
    if (!def->kind->check_artifact) {
        fprintf(stderr,
                "gemflow: cannot accept '%s/%s': a %s stage calls no API and costs nothing; "
                "'gemflow run %s' makes it again\n",
                def->name, it->id, def->kind->name, job->dir);
        return -1;
    }
    char *path = fs_join(job->dir, it->out_path);
    struct stat st;
    struct buf data = BUF_INIT;
    struct gf_err err = GF_ERR_INIT;
    int rc = -1;
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr,
                "gemflow: cannot accept '%s/%s': its output '%s' does not exist; 'gemflow run "
                "%s' generates it\n",
                def->name, it->id, it->out_path, job->dir);
        goto out;
    }
    struct fs_facts facts;
    if (buf_read_file(&data, path) < 0 || fs_stat(job->dir, it->out_path, &facts) < 0) {
        fprintf(stderr, "gemflow: cannot read '%s': %s\n", path, strerror(errno));
        goto out;
    }
    if (def->kind->check_artifact(def, data.data, data.len, &a->media, &err) < 0) {
        fprintf(stderr, "gemflow: cannot accept '%s/%s': '%s' is not a usable %s output: %s\n",
                def->name, it->id, it->out_path, def->kind->name, err.msg);
        cJSON_Delete(a->media);
        a->media = NULL;
        goto out;
    }
    a->it = it;
    a->out.path = it->out_path;
    a->out.bytes = (int64_t)data.len;
    a->out.mtime_ns = facts.mtime_ns;
    sha256_hex(data.data, data.len, a->out.sha256);
    rc = 1;
out:
    buf_release(&data);
    free(path);
    return rc;
}

/* Recorded as a run records an item it made, marked accepted. */
static int adopt(struct job *job, struct adopt *a, struct gf_err *err)
{
    struct item_done_facts facts = {&a->out, 1, a->media, NULL, NULL, true};
    return job_record_done(job, a->it, &facts, err);
}

static struct item *find_item(struct stage_run *sr, const char *id)
{
    for (size_t i = 0; i < sr->n_items; i++) {
        if (strcmp(sr->items[i].id, id) == 0)
            return &sr->items[i];
    }
    return NULL;
}

static void item_ids(struct buf *b, const struct stage_run *sr)
{
    for (size_t i = 0; i < sr->n_items; i++)
        buf_addf(b, "%s%s", i ? ", " : "", sr->items[i].id);
}

static void stage_names(struct buf *b, const struct workflow *wf)
{
    for (size_t i = 0; i < wf->n_stages; i++)
        buf_addf(b, "%s%s", i ? ", " : "", wf->stages[i].name);
}

static bool already_chosen(const struct adopt *todo, size_t n, const struct item *it)
{
    for (size_t i = 0; i < n; i++) {
        if (todo[i].it == it)
            return true;
    }
    return false;
}

/* Which items: the named ones, else every item of the stage. */
static int select_items(struct job *job, size_t s, char **ids, size_t n_ids, struct adopt **out,
                        size_t *n_out, size_t *n_done)
{
    struct stage_run *sr = &job->st[s];
    const char *stage = job->wf.stages[s].name;
    size_t n = n_ids ? n_ids : sr->n_items;
    *out = xcalloc(n + 1, sizeof **out);
    int refused = 0;
    for (size_t i = 0; i < n; i++) {
        struct item *it = n_ids ? find_item(sr, ids[i]) : &sr->items[i];
        if (!it) {
            struct buf list = BUF_INIT;
            item_ids(&list, sr);
            fprintf(stderr, "gemflow: no item '%s' in stage '%s' (items: %s)\n", ids[i], stage,
                    list.data);
            buf_release(&list);
            refused++;
            continue;
        }
        if (already_chosen(*out, *n_out, it))
            continue;
        int r = prepare(job, it, &(*out)[*n_out]);
        if (r == 1)
            (*n_out)++;
        else if (r == 0)
            (*n_done)++;
        else
            refused++;
    }
    return refused;
}

static int accept_stage(struct job *job, const char *stage, char **ids, size_t n_ids)
{
    int s = workflow_stage_index(&job->wf, stage);
    if (s < 0 && workflow_stage_is_off(&job->wf, stage)) {
        fprintf(stderr,
                "gemflow: stage '%s' of job '%s' is disabled (enabled: false): nothing to "
                "accept\n",
                stage, job->dir);
        return GF_EXIT_USAGE;
    }
    if (s < 0) {
        struct buf list = BUF_INIT;
        stage_names(&list, &job->wf);
        fprintf(stderr, "gemflow: no stage '%s' in job '%s' (stages: %s)\n", stage, job->dir,
                list.data);
        buf_release(&list);
        return GF_EXIT_USAGE;
    }
    struct look_stage *looks = xcalloc(job->wf.n_stages, sizeof *looks);
    look_job(job, looks);
    struct adopt *todo = NULL;
    size_t n_todo = 0, n_done = 0;
    int rc = GF_EXIT_USAGE;
    if (looks[s].state == LOOK_AFTER) {
        fprintf(stderr,
                "gemflow: cannot accept stage '%s' yet: it waits for '%s', which is not done, "
                "so its requests cannot be computed; run or accept '%s' first\n",
                stage, looks[s].after, looks[s].after);
        goto out;
    }
    if (looks[s].state == LOOK_ERROR) {
        fprintf(stderr, "gemflow: cannot accept stage '%s': %s\n", stage, looks[s].error);
        goto out;
    }
    if (select_items(job, (size_t)s, ids, n_ids, &todo, &n_todo, &n_done) > 0) {
        fprintf(stderr, "gemflow: nothing was accepted\n");
        goto out;
    }
    struct gf_err err = GF_ERR_INIT;
    for (size_t i = 0; i < n_todo; i++) {
        if (adopt(job, &todo[i], &err) < 0) {
            fprintf(stderr, "gemflow: %s\n", err.msg);
            rc = GF_EXIT_FAILED;
            goto out;
        }
        printf("accepted %s/%s: %s (%lld bytes, sha256 %.12s)\n", stage, todo[i].it->id,
               todo[i].out.path, (long long)todo[i].out.bytes, todo[i].out.sha256);
    }
    if (manifest_write(&job->man, job->dir, job->name, job->wf.name ? job->wf.name : "", &err) < 0)
        fprintf(stderr, "gemflow: %s\n", err.msg);
    printf("%zu item%s of '%s' accepted for today's request, %zu already done\n", n_todo,
           n_todo == 1 ? "" : "s", stage, n_done);
    rc = GF_EXIT_OK;
out:
    for (size_t i = 0; i < n_todo; i++)
        cJSON_Delete(todo[i].media);
    free(todo);
    look_release(job, looks);
    free(looks);
    return rc;
}

int cmd_accept(int argc, char **argv)
{
    struct job_cli jc = {0};
    int rc = cli_parse("accept", argc, argv, &jc, NULL, NULL);
    if (rc)
        goto out;
    if (argc - optind < 2) {
        rc = cli_usage_error("accept", "usage: gemflow accept JOB STAGE [ITEM...]");
        goto out;
    }
    struct job job;
    if ((rc = cli_open_job(&job, argv[optind], &jc.job, JOB_RUN, NULL)) != 0)
        goto out;
    rc = accept_stage(&job, argv[optind + 1], argv + optind + 2, (size_t)(argc - optind - 2));
    job_close(&job);
out:
    job_cli_release(&jc);
    return rc;
}
