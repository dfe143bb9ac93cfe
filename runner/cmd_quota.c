/* cmd_quota: `gemflow quota`: what the quota directory holds (quota.h), per key fingerprint and
 * model: the limits learned from 429s and where they came from, the requests of the last minute,
 * today's count and its reset. Reads only; creates nothing. */
#include "cli.h"
#include "jsonutil.h"
#include "quota.h"
#include "util.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct quota_args {
    const char *dir;
    bool json;
};

/* --quota-dir DIR, --json */
static int quota_own(void *ctx, int id, const char *arg, char *why, size_t why_len)
{
    struct quota_args *a = ctx;
    if (id == OPT_QUOTA_DIR && !*arg) {
        snprintf(why, why_len, "%s", job_cli_problem(id, arg));
        return -1;
    }
    if (id == OPT_QUOTA_DIR)
        a->dir = arg;
    else if (id == OPT_JSON)
        a->json = true;
    else
        return -1;
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static cJSON *time_or_null(int64_t ms)
{
    if (ms <= 0)
        return cJSON_CreateNull();
    char t[32];
    quota_rfc3339(ms, t, sizeof t);
    return cJSON_CreateString(t);
}

static cJSON *model_json(const struct quota_rec *r, int64_t now)
{
    int64_t minute = quota_minute_ms();
    char today[11];
    int64_t reset;
    quota_pacific_day(now, today, &reset);
    bool is_today = strcmp(r->day, today) == 0;
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "model", r->model);
    json_add_i64(m, "requests_last_minute", quotarec_last_minute(r, now, minute));
    cJSON_AddStringToObject(m, "day", today);
    json_add_i64(m, "today", is_today ? r->day_count : 0);
    if (r->limits[QK_RPD].value > 0)
        cJSON_AddNumberToObject(m, "day_limit", r->limits[QK_RPD].value);
    else
        cJSON_AddNullToObject(m, "day_limit");
    cJSON_AddBoolToObject(m, "day_used_up", is_today && r->day_used_up);
    cJSON_AddItemToObject(m, "resets_at", time_or_null(reset));
    cJSON_AddItemToObject(m, "paused_until",
                          time_or_null(r->paused_until_ms > now ? r->paused_until_ms : 0));
    json_add_i64(m, "total", r->total);
    json_add_i64(m, "n_429", r->n_429);
    json_add_str_or_null(m, "updated", r->updated[0] ? r->updated : NULL);
    cJSON *lim = cJSON_AddObjectToObject(m, "limits");
    for (int k = 0; k < QK_N; k++) {
        const struct quota_limit *l = &r->limits[k];
        if (l->value <= 0)
            continue;
        cJSON *o = cJSON_AddObjectToObject(lim, quota_kind_name((enum quota_kind)k));
        cJSON_AddNumberToObject(o, "value", l->value);
        cJSON_AddStringToObject(o, "quota_id", l->quota_id);
        json_add_str_or_null(o, "metric", l->metric[0] ? l->metric : NULL);
        cJSON_AddStringToObject(o, "learned_at", l->learned_at);
        cJSON_AddStringToObject(o, "source", l->source);
        if (l->retry_ms >= 0)
            json_add_i64(o, "retry_ms", l->retry_ms);
        else
            cJSON_AddNullToObject(o, "retry_ms");
    }
    return m;
}

/* One fingerprint directory: its key.json and its records. Records that cannot be read are
 * said on stderr and skipped. */
static cJSON *key_json(const char *dir, const char *fp, int64_t now)
{
    char *kpath = xasprintf("%s/%s/key.json", dir, fp);
    FILE *f = fopen(kpath, "re");
    char text[1024] = "";
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    cJSON *info = cJSON_Parse(text);
    free(kpath);
    cJSON *k = cJSON_CreateObject();
    cJSON_AddStringToObject(k, "fingerprint", fp);
    json_add_str_or_null(k, "origin", json_str(info, "origin"));
    cJSON_Delete(info);
    cJSON *models = cJSON_AddArrayToObject(k, "models");
    char *fpdir = xasprintf("%s/%s", dir, fp);
    struct dirent **ents = NULL;
    int ne = scandir(fpdir, &ents, NULL, by_name);
    for (int i = 0; i < ne; i++) {
        if (str_ends_with(ents[i]->d_name, ".quota")) {
            char *path = xasprintf("%s/%s", fpdir, ents[i]->d_name);
            struct quota_rec r;
            struct gf_err err = GF_ERR_INIT;
            if (quota_read_file(path, &r, &err) == 0)
                cJSON_AddItemToArray(models, model_json(&r, now));
            else
                fprintf(stderr, "gemflow: %s\n", err.msg);
            free(path);
        }
        free(ents[i]);
    }
    free(ents);
    free(fpdir);
    return k;
}

static bool is_fingerprint(const char *name)
{
    if (strlen(name) != QUOTA_FP_LEN)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static void print_limit(const char *kind, const cJSON *l)
{
    if (!l)
        return;
    printf("    %s %-8.0f %s, learned %s from %s", kind, json_num(l, "value", 0),
           json_str(l, "quota_id"), json_str(l, "learned_at"), json_str(l, "source"));
    if (strcmp(kind, "tpm") == 0 || strcmp(kind, "tpd") == 0)
        printf(" (tokens: shown, not paced to)");
    printf("\n");
}

static void print_text(const cJSON *out)
{
    printf("quota directory %s (a minute is %.0f s)\n", json_str(out, "quota_dir"),
           json_num(out, "minute_ms", 60000) / 1000);
    const cJSON *k, *m;
    cJSON_ArrayForEach(k, json_field(out, "keys"))
    {
        printf("key %s  %s\n", json_str(k, "fingerprint"),
               json_str(k, "origin") ? json_str(k, "origin") : "(origin unknown)");
        cJSON_ArrayForEach(m, json_field(k, "models"))
        {
            printf("  %-28s last minute %-5.0f today %.0f", json_str(m, "model"),
                   json_num(m, "requests_last_minute", 0), json_num(m, "today", 0));
            if (cJSON_IsNumber(json_field(m, "day_limit")))
                printf(" of %.0f", json_num(m, "day_limit", 0));
            if (cJSON_IsTrue(json_field(m, "day_used_up")))
                printf(" (used up)");
            printf(", resets %s (midnight Pacific)", json_str(m, "resets_at"));
            if (json_str(m, "paused_until"))
                printf(", paused until %s", json_str(m, "paused_until"));
            printf("; %.0f requests, %.0f 429s counted\n", json_num(m, "total", 0),
                   json_num(m, "n_429", 0));
            const char *kinds[] = {"rpm", "rpd", "tpm", "tpd"};
            for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
                print_limit(kinds[i], json_field(json_field(m, "limits"), kinds[i]));
        }
    }
    if (!cJSON_GetArraySize(json_field(out, "keys")))
        printf("nothing recorded yet (no gemflow process has called the API with it)\n");
}

int cmd_quota(int argc, char **argv)
{
    struct quota_args a = {0};
    int rc = cli_parse("quota", argc, argv, NULL, quota_own, &a);
    if (rc)
        return rc;
    if (optind < argc)
        return cli_usage_error("quota", "unexpected argument '%s'", argv[optind]);
    struct gf_err err = GF_ERR_INIT;
    char *dir = a.dir ? xstrdup(a.dir) : quota_dir_default(&err);
    if (!dir) {
        fprintf(stderr, "gemflow: %s\n", err.msg);
        return GF_EXIT_USAGE;
    }
    int64_t now = quota_wall_ms();
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "quota_dir", dir);
    json_add_i64(out, "minute_ms", quota_minute_ms());
    cJSON_AddItemToObject(out, "now", time_or_null(now));
    cJSON *keys = cJSON_AddArrayToObject(out, "keys");
    struct dirent **ents = NULL;
    int ne = scandir(dir, &ents, NULL, by_name);
    for (int i = 0; i < ne; i++) {
        if (is_fingerprint(ents[i]->d_name))
            cJSON_AddItemToArray(keys, key_json(dir, ents[i]->d_name, now));
        free(ents[i]);
    }
    free(ents);
    if (a.json) {
        char *text = cJSON_Print(out);
        printf("%s\n", text);
        free(text);
    } else {
        print_text(out);
    }
    cJSON_Delete(out);
    free(dir);
    return GF_EXIT_OK;
}
