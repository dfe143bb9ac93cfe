/* cmd_inspect: `gemflow inspect JOB STAGE [ITEM]`: an item's call record made readable: the
 * request as sent (media as size + sha256 + path), the response, the attempts with their errors
 * and delays, the timings; `--raw` prints the record's JSON. */
#include "buf.h"
#include "checkpoint.h"
#include "cli.h"
#include "fsutil.h"
#include "joblog.h"
#include "jsonutil.h"
#include "textout.h"
#include "util.h"

#include <dirent.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct view {
    bool color;
    const char *job_dir;
};

static bool is_component(const char *s)
{
    return s[0] && s[0] != '.' && !strchr(s, '/') && strlen(s) < 256;
}

static void heading(const struct view *v, const char *title)
{
    printf("\n%s%s%s", tx_c(v->color, TX_BOLD), title, tx_c(v->color, TX_RESET));
}

/* Print text indented by `ind` spaces on every line. */
static void indented(const char *text, int ind)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        printf("%*s%.*s\n", ind, "", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
}

/* The {bytes, sha256, saved_as} digest a call record holds in place of inline media. */
static const cJSON *media_digest(const cJSON *holder)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, holder)
    {
        if (cJSON_IsObject(c) && json_str(c, "sha256"))
            return c;
    }
    return NULL;
}

static void print_media(const char *label, const char *mime, const cJSON *d)
{
    printf("  %s: %s", label, mime ? mime : "media");
    if (!d) {
        printf(" (no digest recorded)\n");
        return;
    }
    const char *fmt = json_str(d, "format");
    if (fmt && mime && !strstr(mime, strcmp(fmt, "jpeg") == 0 ? "jp" : fmt))
        printf(" (the bytes are %s)", fmt);
    printf(", %.0f bytes, sha256 %s", json_num(d, "bytes", 0), json_str(d, "sha256"));
    if (json_str(d, "saved_as"))
        printf(", saved as %s", json_str(d, "saved_as"));
    if (json_str(d, "error"))
        printf(" (%s)", json_str(d, "error"));
    printf("\n");
}

static void print_parts(const cJSON *parts, const char *role)
{
    int k = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, parts)
    {
        k++;
        const cJSON *inl = json_field(p, "inlineData");
        if (json_str(p, "text")) {
            const char *what = cJSON_IsTrue(json_field(p, "thought")) ? "thought"
                               : strcmp(role, "system") == 0          ? "instruction"
                               : strcmp(role, "user") == 0            ? "prompt"
                                                                      : "text";
            printf("  %s %s (part %d):\n", role, what, k);
            indented(json_str(p, "text"), 4);
        } else if (inl) {
            char label[64];
            snprintf(label, sizeof label, "%s media (part %d)", role, k);
            print_media(label, json_str(inl, "mimeType"), media_digest(inl));
        } else {
            char *s = cJSON_PrintUnformatted(p);
            printf("  %s part %d: %s\n", role, k, s);
            free(s);
        }
    }
}

/* Top-level request fields other than contents/systemInstruction, compact. */
static void print_other_fields(const cJSON *body, const char *const *skip, size_t n_skip)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, body)
    {
        bool skipped = false;
        for (size_t i = 0; i < n_skip; i++)
            skipped |= strcmp(c->string, skip[i]) == 0;
        if (skipped)
            continue;
        char *s = cJSON_PrintUnformatted(c);
        printf("  %s: %s\n", c->string, s);
        free(s);
    }
}

/* The URL as recorded, without any query string (a key could only ever travel there). */
static void print_request(const struct view *v, const cJSON *req)
{
    heading(v, "request");
    const char *url = json_str(req, "url");
    int ulen = url ? (int)strcspn(url, "?") : 1;
    printf("  %s %.*s\n", json_str(req, "method") ? json_str(req, "method") : "POST", ulen,
           url ? url : "?");
    const cJSON *body = json_field(req, "body");
    if (cJSON_IsString(body)) {
        indented(body->valuestring, 2);
        return;
    }
    const cJSON *sys = json_field(body, "systemInstruction");
    if (sys)
        print_parts(json_field(sys, "parts"), "system");
    const cJSON *c;
    cJSON_ArrayForEach(c, json_field(body, "contents"))
        print_parts(json_field(c, "parts"), json_str(c, "role") ? json_str(c, "role") : "user");
    cJSON_ArrayForEach(c, json_field(body, "instances")) /* imagen :predict */
    {
        if (json_str(c, "prompt")) {
            printf("  prompt:\n");
            indented(json_str(c, "prompt"), 4);
        }
    }
    static const char *const skip[] = {"contents", "systemInstruction", "instances"};
    print_other_fields(body, skip, ARRAY_SIZE(skip));
}

static void print_safety(const cJSON *ratings)
{
    if (cJSON_GetArraySize(ratings) == 0)
        return;
    printf("  safety ratings:");
    const cJSON *r;
    int k = 0;
    cJSON_ArrayForEach(r, ratings)
    {
        printf("%s %s %s%s", k++ ? "," : "",
               json_str(r, "category") ? json_str(r, "category") : "?",
               json_str(r, "probability") ? json_str(r, "probability") : "?",
               cJSON_IsTrue(json_field(r, "blocked")) ? " (blocked)" : "");
    }
    printf("\n");
}

static void print_usage_meta(const cJSON *u)
{
    if (!u)
        return;
    printf("  usage: prompt %.0f, output %.0f", json_num(u, "promptTokenCount", 0),
           json_num(u, "candidatesTokenCount", 0));
    if (json_num(u, "thoughtsTokenCount", 0) > 0)
        printf(" + %.0f thoughts", json_num(u, "thoughtsTokenCount", 0));
    printf(", total %.0f tokens\n", json_num(u, "totalTokenCount", 0));
}

static void print_response(const struct view *v, const cJSON *resp)
{
    heading(v, "response");
    printf("  HTTP %.0f", json_num(resp, "http_status", 0));
    const cJSON *body = json_field(resp, "body");
    const cJSON *cand = cJSON_GetArrayItem(json_field(body, "candidates"), 0);
    if (json_str(cand, "finishReason"))
        printf(", finish reason %s", json_str(cand, "finishReason"));
    if (json_str(body, "modelVersion"))
        printf(", model version %s", json_str(body, "modelVersion"));
    if (json_str(body, "responseId"))
        printf(", response id %s", json_str(body, "responseId"));
    printf("\n");
    if (!body) {
        printf("  no response body (the connection failed or nothing was answered)\n");
        return;
    }
    if (cJSON_IsString(body)) {
        printf("  body (not JSON):\n");
        indented(body->valuestring, 4);
        return;
    }
    const cJSON *err = json_field(body, "error");
    if (err) {
        printf("  error %.0f %s: %s\n", json_num(err, "code", 0),
               json_str(err, "status") ? json_str(err, "status") : "",
               json_str(err, "message") ? json_str(err, "message") : "");
        const cJSON *d;
        cJSON_ArrayForEach(d, json_field(err, "details"))
        {
            char *s = cJSON_PrintUnformatted(d);
            printf("    detail: %s\n", s);
            free(s);
        }
    }
    const cJSON *fb = json_field(body, "promptFeedback");
    if (json_str(fb, "blockReason"))
        printf("  prompt blocked: %s\n", json_str(fb, "blockReason"));
    print_safety(json_field(fb, "safetyRatings"));
    if (cand) {
        print_parts(json_field(json_field(cand, "content"), "parts"), "model");
        print_safety(json_field(cand, "safetyRatings"));
    }
    const cJSON *pred;
    cJSON_ArrayForEach(pred, json_field(body, "predictions"))
        print_media("prediction", json_str(pred, "mimeType"), media_digest(pred));
    print_usage_meta(json_field(body, "usageMetadata"));
}

/* The retry events of the record's item during the record's run (the progress log knows the
 * delay of every retry, the record only the ones the server advised). */
struct retries {
    const char *stage, *item, *from, *to;
    cJSON *events; /* owned array */
};

static int collect_retry(void *ctx, const cJSON *ev, size_t lineno)
{
    struct retries *r = ctx;
    const char *ts = json_str(ev, "ts");
    if (strcmp(json_str(ev, "event"), "retry") == 0 && json_str(ev, "stage") &&
        strcmp(json_str(ev, "stage"), r->stage) == 0 && json_str(ev, "item") &&
        strcmp(json_str(ev, "item"), r->item) == 0 && ts && strcmp(ts, r->from) >= 0 &&
        strcmp(ts, r->to) <= 0)
        cJSON_AddItemToArray(r->events, cJSON_Duplicate(ev, 1));
    return 0;
}

static const cJSON *retry_after(const struct retries *r, double attempt)
{
    const cJSON *ev;
    cJSON_ArrayForEach(ev, r->events)
    {
        if (json_num(ev, "attempt", 0) == attempt + 1)
            return ev;
    }
    return NULL;
}

static void print_attempts(const struct view *v, const cJSON *rec)
{
    const cJSON *t = json_field(rec, "timings");
    struct retries r = {json_str(rec, "stage"), json_str(rec, "item"),
                        json_str(t, "started") ? json_str(t, "started") : "",
                        json_str(t, "ended") ? json_str(t, "ended") : "~", cJSON_CreateArray()};
    char *log = fs_join(v->job_dir, "progress.jsonl");
    joblog_replay(log, collect_retry, &r, NULL, NULL);
    free(log);
    heading(v, "attempts\n");
    const cJSON *a;
    cJSON_ArrayForEach(a, json_field(rec, "attempts"))
    {
        char d[32];
        tx_duration(d, sizeof d, (int64_t)json_num(a, "ms", 0));
        printf("  %2.0f  ", json_num(a, "attempt", 0));
        if (json_num(a, "http_status", 0) > 0)
            printf("HTTP %.0f", json_num(a, "http_status", 0));
        else
            printf("no response");
        printf(" after %s", d);
        if (json_str(a, "error"))
            printf(": %s", json_str(a, "error"));
        if (json_str(a, "served_by"))
            printf(" (served by %s)", json_str(a, "served_by"));
        if (json_str(a, "rejected"))
            printf("; the paid reply's content is kept in %s", json_str(a, "rejected"));
        const cJSON *ev = retry_after(&r, json_num(a, "attempt", 0));
        if (ev) {
            tx_duration(d, sizeof d, (int64_t)json_num(ev, "delay_ms", 0));
            printf("; retried after %s (%s)", d,
                   cJSON_IsNumber(json_field(a, "retry_in_ms")) ? "the server's advice"
                                                                : "backoff with jitter");
        }
        printf("\n");
    }
    cJSON_Delete(r.events);
}

/* Where the artifact stands now, judged like a run would judge it. */
static void print_artifact(const struct view *v, const cJSON *rec)
{
    const char *saved = json_str(rec, "saved_as");
    if (!saved)
        return;
    struct ckpt ck;
    struct gf_err err = GF_ERR_INIT;
    if (ckpt_load(&ck, v->job_dir, &err) < 0)
        return;
    enum ckpt_verdict verdict = ckpt_judge(&ck, v->job_dir, json_str(rec, "stage"),
                                           json_str(rec, "item"), json_str(rec, "key"), NULL);
    const char *what = verdict == CK_DONE      ? "on disk as recorded"
                       : verdict == CK_EDITED  ? "edited by hand since"
                       : verdict == CK_MISSING ? "missing from disk"
                                               : "no longer the recorded one";
    printf("  artifact  %s (%s)\n", saved, what);
    ckpt_release(&ck);
}

static void print_record(const struct view *v, const cJSON *rec)
{
    const char *status = json_str(rec, "status") ? json_str(rec, "status") : "?";
    printf("%s%s/%s%s  %s%s%s  %s\n", tx_c(v->color, TX_BOLD), json_str(rec, "stage"),
           json_str(rec, "item"), tx_c(v->color, TX_RESET), tx_c(v->color, tx_state_sgr(status)),
           status, tx_c(v->color, TX_RESET), json_str(rec, "model") ? json_str(rec, "model") : "");
    if (json_str(rec, "served_by"))
        printf("  %smodel%s     asked %s, served by %s (the API rerouted the request)\n",
               tx_c(v->color, TX_YELLOW), tx_c(v->color, TX_RESET), json_str(rec, "model"),
               json_str(rec, "served_by"));
    printf("  key       %s (sha256 of the request as sent)\n", json_str(rec, "key"));
    print_artifact(v, rec);
    const cJSON *e = json_field(rec, "error");
    if (e) {
        printf("  %serror%s     ", tx_c(v->color, TX_RED), tx_c(v->color, TX_RESET));
        if (json_num(e, "http_status", 0) > 0)
            printf("HTTP %.0f%s%s, ", json_num(e, "http_status", 0),
                   json_str(e, "status") ? " " : "",
                   json_str(e, "status") ? json_str(e, "status") : "");
        printf("%s: %s", json_str(e, "kind") ? json_str(e, "kind") : "?",
               json_str(e, "message") ? json_str(e, "message") : "");
        if (json_str(e, "finish_reason"))
            printf(" [finish %s]", json_str(e, "finish_reason"));
        if (json_str(e, "block_reason"))
            printf(" [blocked %s]", json_str(e, "block_reason"));
        printf("\n");
    }
    print_request(v, json_field(rec, "request"));
    print_response(v, json_field(rec, "response"));
    print_attempts(v, rec);
    const cJSON *t = json_field(rec, "timings");
    char d[32];
    tx_duration(d, sizeof d, (int64_t)json_num(t, "total_ms", 0));
    heading(v, "timings\n");
    printf("  started %s, ended %s, %s in all\n",
           json_str(t, "started") ? json_str(t, "started") : "?",
           json_str(t, "ended") ? json_str(t, "ended") : "?", d);
}

/* --raw output: the JSON made terminal-safe without changing it (tx_json_safe); releases it. */
static void print_json_text(struct buf *json)
{
    struct buf safe = BUF_INIT;
    tx_json_safe(&safe, json->data, json->len);
    fputs(safe.data, stdout);
    buf_release(&safe);
    buf_release(json);
}

static cJSON *load_record(const char *path, struct gf_err *err)
{
    struct buf b = BUF_INIT;
    if (buf_read_file(&b, path) < 0) {
        gf_error_errno(err, GF_ERR_IO, "cannot read '%s'", path);
        return NULL;
    }
    cJSON *rec = cJSON_ParseWithLength(b.data, b.len);
    buf_release(&b);
    if (!cJSON_IsObject(rec)) {
        cJSON_Delete(rec);
        gf_error(err, GF_ERR_IO, "'%s' is not a call record (not a JSON object)", path);
        return NULL;
    }
    return rec;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in `dir` (files ending in ".json" with it cut, or directories), sorted. */
static size_t list_dir(const char *dir, bool want_dirs, char ***out)
{
    size_t n = 0, cap = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *full = fs_join(dir, de->d_name);
        bool isdir = fs_is_dir(full);
        free(full);
        if (want_dirs && isdir)
            *VEC_PUSH(*out, n, cap) = xstrdup(de->d_name);
        else if (!want_dirs && !isdir && str_ends_with(de->d_name, ".json"))
            *VEC_PUSH(*out, n, cap) = xstrndup(de->d_name, strlen(de->d_name) - 5);
    }
    if (d)
        closedir(d);
    if (n)
        qsort(*out, n, sizeof **out, by_name);
    return n;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static char *joined(char **names, size_t n)
{
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        buf_adds(&b, i ? ", " : "");
        tx_sanitize(&b, names[i]); /* file names in the job */
    }
    return buf_detach(&b, NULL);
}

/* One line per recorded item of a stage. */
static int list_items(const struct view *v, const char *stage_dir, char **items, size_t n, bool raw)
{
    cJSON *all = raw ? cJSON_CreateArray() : NULL;
    int rc = GF_EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        char *file = xasprintf("%s/%s.json", stage_dir, items[i]);
        struct gf_err err = GF_ERR_INIT;
        cJSON *rec = load_record(file, &err);
        free(file);
        if (!rec) {
            fprintf(stderr, "gemflow: %s\n", err.msg);
            rc = GF_EXIT_FAILED;
            continue;
        }
        if (raw) {
            cJSON_AddItemToArray(all, rec);
            continue;
        }
        tx_sanitize_json(rec);         /* the model's and the API's words */
        tx_sanitize_inplace(items[i]); /* a file name in the job */
        const char *status = json_str(rec, "status") ? json_str(rec, "status") : "?";
        char d[32];
        tx_duration(d, sizeof d, (int64_t)json_num(json_field(rec, "timings"), "total_ms", 0));
        printf("%-16s %s%-7s%s HTTP %3.0f  %2d attempt%s  %-8s %6.0f tokens", items[i],
               tx_c(v->color, tx_state_sgr(status)), status, tx_c(v->color, TX_RESET),
               json_num(json_field(rec, "response"), "http_status", 0),
               cJSON_GetArraySize(json_field(rec, "attempts")),
               cJSON_GetArraySize(json_field(rec, "attempts")) == 1 ? " " : "s", d,
               json_num(json_field(rec, "usage"), "total", 0));
        if (json_str(json_field(rec, "error"), "message"))
            printf("  %s", json_str(json_field(rec, "error"), "message"));
        printf("\n");
        cJSON_Delete(rec);
    }
    if (raw) {
        struct buf out = BUF_INIT;
        json_pretty(all, &out);
        print_json_text(&out);
        cJSON_Delete(all);
    }
    return rc;
}

static int inspect(const struct view *v, const char *stage, const char *item, bool raw)
{
    char *calls = fs_join(v->job_dir, ".gemflow/calls");
    char *stage_dir = fs_join(calls, stage);
    char **names = NULL;
    size_t n = 0;
    int rc = GF_EXIT_USAGE;
    if (!fs_is_dir(stage_dir)) {
        n = list_dir(calls, true, &names);
        char *list = joined(names, n);
        fprintf(stderr, "gemflow: no call record for stage '%s' in job '%s' (%s%s)\n", stage,
                v->job_dir, n ? "recorded stages: " : "no call recorded yet", list);
        free(list);
        goto out;
    }
    n = list_dir(stage_dir, false, &names);
    if (!item && n == 1 && strcmp(names[0], stage) == 0)
        item = stage; /* a single-item stage: its item is named after it */
    if (!item) {
        rc = list_items(v, stage_dir, names, n, raw);
        goto out;
    }
    char *file = xasprintf("%s/%s.json", stage_dir, item);
    if (!fs_is_dir(v->job_dir) || access(file, F_OK) != 0) {
        char *list = joined(names, n);
        fprintf(stderr, "gemflow: no call record for '%s/%s' in job '%s' (recorded items: %s)\n",
                stage, item, v->job_dir, list);
        free(list);
        free(file);
        goto out;
    }
    struct gf_err err = GF_ERR_INIT;
    cJSON *rec = load_record(file, &err);
    free(file);
    if (!rec) {
        fprintf(stderr, "gemflow: %s\n", err.msg);
        rc = GF_EXIT_FAILED;
        goto out;
    }
    if (raw) {
        struct buf out = BUF_INIT;
        json_pretty(rec, &out);
        print_json_text(&out);
    } else {
        tx_sanitize_json(rec); /* the model's and the API's words */
        print_record(v, rec);
    }
    cJSON_Delete(rec);
    rc = GF_EXIT_OK;
out:
    free_names(names, n);
    free(stage_dir);
    free(calls);
    return rc;
}

/* --raw */
static int inspect_own(void *ctx, int id, const char *arg, char *why, size_t why_len)
{
    if (id != OPT_RAW)
        return -1;
    *(bool *)ctx = true;
    return 0;
}

int cmd_inspect(int argc, char **argv)
{
    bool raw = false;
    struct job_cli jc = {0};
    int prc = cli_parse("inspect", argc, argv, &jc, inspect_own, &raw);
    if (prc)
        return prc;
    int nargs = argc - optind;
    if (nargs < 2 || nargs > 3)
        return cli_usage_error("inspect", "usage: gemflow inspect JOB STAGE [ITEM]");
    const char *job = argv[optind], *stage = argv[optind + 1];
    const char *item = nargs == 3 ? argv[optind + 2] : NULL;
    if (!fs_is_dir(job)) {
        fprintf(stderr, "gemflow: '%s' is not a job directory (no such directory)\n", job);
        return GF_EXIT_USAGE;
    }
    if (!is_component(stage) || (item && !is_component(item)))
        return cli_usage_error("inspect", "'%s' is not a stage or item name",
                               is_component(stage) ? item : stage);
    struct view v = {tx_use_color(stdout, jc.color), job};
    return inspect(&v, stage, item, raw);
}
